# the harness: its code and model are declared inputs
