package ociimage

import (
	"debug/elf"
	"fmt"
)

// CheckStatic reports the image architecture of the ELF executable at path
// ("amd64", "arm64"), or an error when it is not one an empty base can run:
// not ELF, not executable, or dynamically linked. distroless static (and
// this package's base) has no C library and no loader, so a dynamic binary
// would fail at start with a bare "no such file or directory".
func CheckStatic(path string) (arch string, err error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", fmt.Errorf("ociimage: %s is not an ELF executable: %w", path, err)
	}
	defer f.Close()
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return "", fmt.Errorf("ociimage: %s is an ELF %s, want an executable", path, f.Type)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return "", fmt.Errorf("ociimage: %s is dynamically linked (it has a PT_INTERP program header asking for a loader); "+
				"the image has no C library: build it with CGO_ENABLED=0", path)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		return "", fmt.Errorf("ociimage: %s needs shared libraries %v; the image has none: build it with CGO_ENABLED=0", path, libs)
	}
	return archOf(f.Machine)
}

// archOf maps an ELF machine to the GOARCH name OCI platforms use.
func archOf(m elf.Machine) (string, error) {
	switch m {
	case elf.EM_X86_64:
		return "amd64", nil
	case elf.EM_AARCH64:
		return "arm64", nil
	}
	return "", fmt.Errorf("ociimage: ELF machine %s has no image architecture here (want x86-64 or aarch64)", m)
}
