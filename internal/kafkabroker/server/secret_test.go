package server

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSecret(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "password")
	if err := os.WriteFile(file, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SVCAT_TEST_SECRET", "from-env")
	tests := []struct {
		name, value, file, env, want string
		wantErr                      bool
	}{
		{"flag wins", "from-flag", file, "SVCAT_TEST_SECRET", "from-flag", false},
		{"file over env, newline dropped", "", file, "SVCAT_TEST_SECRET", "from-file", false},
		{"env", "", "", "SVCAT_TEST_SECRET", "from-env", false},
		{"nothing", "", "", "", "", false},
		{"missing file", "", filepath.Join(dir, "nope"), "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Secret(tt.value, tt.file, tt.env)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("Secret = %q, %v", got, err)
			}
		})
	}
}
