print("svco-bench")
