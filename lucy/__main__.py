print("main placeholder")
