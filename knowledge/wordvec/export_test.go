package wordvec

// Embedded is the bundled file, for the external tests' load benchmark.
func Embedded() string { return embedded }
