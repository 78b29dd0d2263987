extension ChatTemplate {
    /// S-VCO's training template for LLaVA-1.5 (llava-hf layout).
    ///
    /// It renders exactly what the llava-hf `llava-1.5-7b-hf` template renders — the one the
    /// S-VCO reference trains with — `"{system} USER: <image>\n{instruction} ASSISTANT: {answer} "`:
    /// a system message has no role prefix, every message puts its image placeholders first
    /// and follows each text part with a space, and the assistant text *with that trailing
    /// space* is the `{% generation %}` span. BOS/EOS come from the tokenizer; the reference
    /// forces the final token (EOS) into the labels separately.
    public static let svcoLLaVA15TrainingSource = #"""
        {#- S-VCO training template for LLaVA-1.5: same text and generation spans as the llava-hf
            template. Images first, then each text part followed by a space; the assistant text
            (with its space) is the generation span. -#}
        {%- for message in messages -%}
            {%- if message['role'] != 'system' -%}
                {{- message['role'] | upper ~ ': ' -}}
            {%- endif -%}
            {%- for part in message['content'] if part['type'] == 'image' -%}
                {{- '<image>\n' -}}
            {%- endfor -%}
            {%- for part in message['content'] if part['type'] == 'text' -%}
                {%- if message['role'] == 'assistant' -%}
                    {%- generation -%}{{- part['text'] ~ ' ' -}}{%- endgeneration -%}
                {%- else -%}
                    {{- part['text'] ~ ' ' -}}
                {%- endif -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- if add_generation_prompt -%}
            {{- 'ASSISTANT:' -}}
        {%- endif -%}
        """#

    /// S-VCO's training template for LLaVA-Interleave (llava-hf ChatML layout).
    ///
    /// It renders exactly what the llava-hf interleave template renders:
    /// `"<|im_start|>{role} "`, the message's `<image>`/`<video>` placeholders, `"\n" + text` per
    /// text part, then `"<|im_end|>"`. The assistant's `"\n" + answer` — the newline after
    /// `<|im_start|>assistant ` plus the answer — is the generation span. The tokenizer adds
    /// no BOS/EOS for this family.
    public static let svcoLLaVAInterleaveTrainingSource = #"""
        {#- S-VCO training template for LLaVA-Interleave: same text and generation spans as the
            llava-hf ChatML template; the assistant's newline plus answer is the generation span. -#}
        {%- for message in messages -%}
            {{- '<|im_start|>' ~ message['role'] ~ ' ' -}}
            {%- for part in message['content'] if part['type'] == 'image' -%}{{- '<image>' -}}{%- endfor -%}
            {%- for part in message['content'] if part['type'] == 'video' -%}{{- '<video>' -}}{%- endfor -%}
            {%- for part in message['content'] if part['type'] == 'text' -%}
                {%- if message['role'] == 'assistant' -%}
                    {%- generation -%}{{- '\n' ~ part['text'] -}}{%- endgeneration -%}
                {%- else -%}
                    {{- '\n' ~ part['text'] -}}
                {%- endif -%}
            {%- endfor -%}
            {{- '<|im_end|>' -}}
        {%- endfor -%}
        {%- if add_generation_prompt -%}
            {{- '<|im_start|>assistant\n' -}}
        {%- endif -%}
        """#

    /// The parsed LLaVA-1.5 training template (see ``svcoLLaVA15TrainingSource``).
    public static func svcoLLaVA15Training() throws -> ChatTemplate {
        try ChatTemplate(source: svcoLLaVA15TrainingSource, name: "svco-llava-1.5-train")
    }

    /// The parsed LLaVA-Interleave training template (see ``svcoLLaVAInterleaveTrainingSource``).
    public static func svcoLLaVAInterleaveTraining() throws -> ChatTemplate {
        try ChatTemplate(source: svcoLLaVAInterleaveTrainingSource, name: "svco-llava-interleave-train")
    }
}
