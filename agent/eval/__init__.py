"""`python -m agent eval`: accuracy of the intent classifier and the FAQ index on labelled CSV files."""
