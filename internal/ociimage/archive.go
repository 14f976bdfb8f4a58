package ociimage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// WriteArchive writes img to path as a docker-archive tarball (manifest.json
// with RepoTags), named refs. That is the format `docker load` and
// `ctr images import` both read with the names inside, so an imported image
// lands under the name pods reference without a --base-name. The file
// appears whole or not at all.
func WriteArchive(path string, img v1.Image, refs ...string) error {
	if len(refs) == 0 {
		return errors.New("ociimage: an archive needs at least one name (e.g. ghcr.io/svcat-io/catalog-controller:0.1.0)")
	}
	named := map[name.Reference]v1.Image{}
	for _, r := range refs {
		// Tags only: a digest name cannot be chosen, it is the content's.
		t, err := name.NewTag(r, name.StrictValidation)
		if err != nil {
			return fmt.Errorf("ociimage: image name %q: %w (want registry/repository:tag)", r, err)
		}
		named[t] = img
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tarball.MultiRefWrite(named, tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("ociimage: writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// ReadArchive reads back the image named ref from an archive WriteArchive
// wrote (ref empty: the only image in it).
func ReadArchive(path, ref string) (v1.Image, error) {
	var tag *name.Tag
	if ref != "" {
		t, err := name.NewTag(ref, name.StrictValidation)
		if err != nil {
			return nil, fmt.Errorf("ociimage: image name %q: %w", ref, err)
		}
		tag = &t
	}
	return tarball.ImageFromPath(path, tag)
}

// Import loads an archive into containerd with its CLI, ctr, from the same
// Debian package as the daemon (so client and daemon are one version), into
// namespace (the CRI plugin, and so the kubelet, reads "k8s.io"). address is
// containerd's socket. The images are unpacked into the default snapshotter
// so a pod can start from them at once.
//
// ctr rather than containerd's Go client: the client would pull containerd
// and its gRPC API into the main module for one call, at a version that has
// to match the daemon's anyway; ctr is already on every machine that runs
// containerd.
func Import(ctx context.Context, archive, address, namespace string) error {
	ctr, err := exec.LookPath("ctr")
	if err != nil {
		return errors.New("ociimage: importing needs containerd's ctr, which is not on PATH: apt-get install containerd")
	}
	if _, err := os.Stat(archive); err != nil {
		return fmt.Errorf("ociimage: archive to import: %w", err)
	}
	cmd := exec.CommandContext(ctx, ctr, ImportArgs(archive, address, namespace)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("ociimage: ctr images import %s into namespace %s at %s: %w: %s",
			archive, namespace, address, err, strings.TrimSpace(out.String()))
	}
	return nil
}

// ImportArgs are ctr's arguments for Import, for callers that run ctr
// themselves (a shell script, a Makefile).
func ImportArgs(archive, address, namespace string) []string {
	return []string{"--address", address, "--namespace", namespace, "images", "import", archive}
}
