// Benchmarks, graders and the judge client land here (issue 6).
