// Placeholder: the tokenizer.json pipeline lands here (issue 4).
