package ociimage

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

// testBinaries builds the pause and demo-kafka-producer binaries once, as
// make images does, into a directory that outlives the tests that share it.
func testBinaries(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "ociimage-bin-")
		if binErr != nil {
			return
		}
		cmd := exec.Command("go", GoBuildArgs(binDir, "test", "./hack/pause", "./cmd/demo-kafka-producer")...)
		cmd.Dir = repoRoot(t)
		cmd.Env = append(os.Environ(), GoBuildEnv...)
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = errors.New("go build: " + err.Error() + ": " + string(out))
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repository root not found from %s: %v", root, err)
	}
	return root
}

// fsEntry is one file of an image's flattened filesystem.
type fsEntry struct {
	hdr  *tar.Header
	data []byte
}

// filesystem flattens img's layers as a runtime would see them.
func filesystem(t *testing.T, img v1.Image) map[string]fsEntry {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	files := map[string]fsEntry{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files["/"+strings.Trim(h.Name, "/")] = fsEntry{hdr: h, data: data}
	}
}

// writtenAndReadBack is the image as a consumer of the archive sees it.
func writtenAndReadBack(t *testing.T, spec Spec, ref string) (v1.Image, string) {
	t.Helper()
	img, err := Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "image.tar")
	if err := WriteArchive(archive, img, ref); err != nil {
		t.Fatal(err)
	}
	back, err := ReadArchive(archive, ref)
	if err != nil {
		t.Fatal(err)
	}
	return back, archive
}

func TestImageIsDistrolessStaticNonrootEquivalent(t *testing.T) {
	bin := filepath.Join(testBinaries(t), "demo-kafka-producer")
	c, _ := ComponentByName("demo-kafka-producer")
	const ref = "ghcr.io/svcat-io/demo-kafka-producer:0.1.0"
	img, _ := writtenAndReadBack(t, c.Spec(bin, "v9.9.9"), ref)

	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Config.User != "65532:65532" {
		t.Errorf("user %q, want 65532:65532 (distroless nonroot, the chart's runAsUser)", cf.Config.User)
	}
	if !slices.Equal(cf.Config.Entrypoint, []string{"/demo-kafka-producer"}) {
		t.Errorf("entrypoint %q, want [/demo-kafka-producer]", cf.Config.Entrypoint)
	}
	if cf.OS != "linux" || cf.Architecture != "amd64" {
		t.Errorf("platform %s/%s, want linux/amd64 (the binary's)", cf.OS, cf.Architecture)
	}
	for _, want := range []string{"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"} {
		if !slices.Contains(cf.Config.Env, want) {
			t.Errorf("env %q lacks %s", cf.Config.Env, want)
		}
	}
	if got := cf.Config.Labels["org.opencontainers.image.version"]; got != "v9.9.9" {
		t.Errorf("version label %q, want v9.9.9", got)
	}
	if got := cf.Config.Labels["org.opencontainers.image.source"]; got != SourceURL {
		t.Errorf("source label %q, want %s", got, SourceURL)
	}
	if !cf.Created.Time.Equal(Epoch) {
		t.Errorf("created %s, want the fixed %s", cf.Created.Time, Epoch)
	}

	files := filesystem(t, img)
	entry, ok := files["/demo-kafka-producer"]
	if !ok {
		t.Fatal("no /demo-kafka-producer in the image")
	}
	if entry.hdr.Typeflag != tar.TypeReg || entry.hdr.Mode&0o111 != 0o111 {
		t.Errorf("entrypoint is type %c mode %o, want an executable regular file", entry.hdr.Typeflag, entry.hdr.Mode)
	}
	want, _ := os.ReadFile(bin)
	if !bytes.Equal(entry.data, want) {
		t.Error("the entrypoint's bytes are not the binary's")
	}
	// The copy in the image, not the input, must be static.
	copyPath := filepath.Join(t.TempDir(), "entry")
	if err := os.WriteFile(copyPath, entry.data, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := CheckStatic(copyPath); err != nil {
		t.Error(err)
	}

	host, err := os.ReadFile(HostCABundle)
	if err != nil {
		t.Fatal(err)
	}
	if ca := files["/etc/ssl/certs/ca-certificates.crt"]; !bytes.Equal(ca.data, host) || len(host) == 0 {
		t.Errorf("CA bundle in the image (%d bytes) is not the host's (%d bytes)", len(ca.data), len(host))
	}
	if !strings.Contains(string(files["/etc/passwd"].data), "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n") {
		t.Errorf("/etc/passwd has no nonroot user 65532:\n%s", files["/etc/passwd"].data)
	}
	if !strings.Contains(string(files["/etc/passwd"].data), "root:x:0:0:") {
		t.Errorf("/etc/passwd has no root:\n%s", files["/etc/passwd"].data)
	}
	if !strings.Contains(string(files["/etc/group"].data), "nonroot:x:65532:") {
		t.Errorf("/etc/group has no nonroot group 65532:\n%s", files["/etc/group"].data)
	}
	if tmp := files["/tmp"]; tmp.hdr == nil || tmp.hdr.Typeflag != tar.TypeDir || tmp.hdr.Mode&0o7777 != 0o1777 {
		t.Errorf("/tmp is not a 1777 directory: %+v", tmp.hdr)
	}
	if home := files["/home/nonroot"]; home.hdr == nil || home.hdr.Uid != 65532 || home.hdr.Gid != 65532 || home.hdr.Typeflag != tar.TypeDir {
		t.Errorf("/home/nonroot is not a directory owned by 65532: %+v", home.hdr)
	}

	// No shell, no busybox, nothing else to run: the only executable is the
	// entrypoint.
	for _, sh := range []string{"/bin/sh", "/bin/bash", "/bin/busybox", "/usr/bin/sh"} {
		if _, ok := files[sh]; ok {
			t.Errorf("the image has %s", sh)
		}
	}
	for name, f := range files {
		switch {
		case f.hdr.Typeflag == tar.TypeSymlink || f.hdr.Typeflag == tar.TypeLink:
			t.Errorf("%s is a link (to %s); the image has none", name, f.hdr.Linkname)
		case f.hdr.Typeflag == tar.TypeReg && f.hdr.Mode&0o111 != 0 && name != "/demo-kafka-producer":
			t.Errorf("%s is executable (mode %o); only the entrypoint may be", name, f.hdr.Mode)
		case f.hdr.Typeflag != tar.TypeReg && f.hdr.Typeflag != tar.TypeDir:
			t.Errorf("%s has type %c", name, f.hdr.Typeflag)
		}
		if !f.hdr.ModTime.Equal(Epoch) {
			t.Errorf("%s has time %s, want the fixed %s", name, f.hdr.ModTime, Epoch)
		}
	}
}

func TestSameBinarySameDigest(t *testing.T) {
	dir := testBinaries(t)
	c, _ := ComponentByName("pause")
	digestOf := func(bin string) (v1.Hash, []byte) {
		img, archive := writtenAndReadBack(t, c.Spec(bin, "v1"), PauseRef)
		// The image ID (config digest): what survives the archive and
		// what docker and crictl show.
		d, err := img.ConfigName()
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(archive)
		if err != nil {
			t.Fatal(err)
		}
		return d, b
	}
	d1, a1 := digestOf(filepath.Join(dir, "pause"))
	d2, a2 := digestOf(filepath.Join(dir, "pause"))
	if d1 != d2 {
		t.Errorf("two builds of the same binary: image IDs %s and %s", d1, d2)
	}
	if !bytes.Equal(a1, a2) {
		t.Error("two builds of the same binary wrote different archives")
	}
	// The digest does follow the content.
	d3, _ := digestOf(filepath.Join(dir, "demo-kafka-producer"))
	if d3 == d1 {
		t.Error("a different binary gave the same image ID")
	}
}

func TestRefusesWhatTheImageCannotRun(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "script")
	if err := os.WriteFile(text, []byte("#!/bin/sh\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Build(Spec{Binary: text}); err == nil || !strings.Contains(err.Error(), "not an ELF executable") {
		t.Errorf("a shell script: %v, want 'not an ELF executable'", err)
	}
	// Debian's coreutils are dynamically linked.
	for _, dyn := range []string{"/bin/true", "/usr/bin/true"} {
		f, err := os.Open(dyn)
		if err != nil {
			continue
		}
		f.Close()
		_, err = Build(Spec{Binary: dyn})
		if err == nil || !strings.Contains(err.Error(), "dynamically linked") || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
			t.Errorf("%s: %v, want a refusal naming dynamic linking and CGO_ENABLED=0", dyn, err)
		}
		break
	}
	if _, err := Build(Spec{}); err == nil {
		t.Error("an empty spec was accepted")
	}
	bin := filepath.Join(testBinaries(t), "pause")
	if _, err := Build(Spec{Binary: bin, Entrypoint: "pause"}); err == nil || !strings.Contains(err.Error(), `"pause"`) {
		t.Errorf("a relative entrypoint: %v, want it refused by value", err)
	}
	missing := filepath.Join(dir, "no-ca.crt")
	_, err := Build(Spec{Binary: bin, CABundle: missing})
	if err == nil || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), "ca-certificates") {
		t.Errorf("a missing CA bundle: %v, want the path and how to install ca-certificates", err)
	}
	img, err := Build(Spec{Binary: bin})
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteArchive(filepath.Join(dir, "x.tar"), img, "not a name"); err == nil || !strings.Contains(err.Error(), `"not a name"`) {
		t.Errorf("a bad image name: %v, want it refused by value", err)
	}
}

func TestWriteComponents(t *testing.T) {
	root := repoRoot(t)
	tag, err := ChartAppVersion(filepath.Join(root, "charts", "svcat", "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	pause, _ := ComponentByName("pause")
	producer, _ := ComponentByName("demo-kafka-producer")
	var progress bytes.Buffer
	dir := t.TempDir()
	written, err := WriteComponents(t.Context(), WriteOptions{
		Dir: dir, Registry: Registry, Tag: tag, Version: "v1",
		Components: []Component{pause, producer}, RepoRoot: root, Progress: &progress,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(written) != 2 {
		t.Fatalf("wrote %d archives, want 2", len(written))
	}
	wantRefs := []string{PauseRef, "ghcr.io/svcat-io/demo-kafka-producer:" + tag}
	for i, w := range written {
		if w.Ref != wantRefs[i] || w.Archive != filepath.Join(dir, w.Component.Name+".tar") {
			t.Errorf("wrote %s as %s, want %s as %s.tar", w.Archive, w.Ref, wantRefs[i], w.Component.Name)
		}
		img, err := ReadArchive(w.Archive, w.Ref)
		if err != nil {
			t.Fatalf("%s has no image %s: %v", w.Archive, w.Ref, err)
		}
		if id, _ := img.ConfigName(); id != w.ID {
			t.Errorf("%s: image ID read back %s, reported %s", w.Archive, id, w.ID)
		}
		if !strings.Contains(progress.String(), "wrote "+w.Archive+" ("+w.Ref) {
			t.Errorf("no progress line for %s in:\n%s", w.Archive, progress.String())
		}
	}
	if !strings.Contains(progress.String(), "built 2 binaries in ") {
		t.Errorf("no progress line for the build in:\n%s", progress.String())
	}
}
