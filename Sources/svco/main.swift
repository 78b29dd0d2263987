print("svco")
