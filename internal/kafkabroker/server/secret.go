package server

import (
	"fmt"
	"os"
	"strings"
)

// Secret resolves a credential given as a flag value, a file (a mounted
// Kubernetes Secret) or an environment variable, in that order. Files win
// over the environment because a mounted Secret is the more deliberate
// choice; a trailing newline in the file is dropped.
func Secret(value, file, env string) (string, error) {
	if value != "" {
		return value, nil
	}
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("reading credential file: %w", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	if env != "" {
		return os.Getenv(env), nil
	}
	return "", nil
}
