// Command images writes the project's container images without a container
// engine (make images): it builds the binaries as the Dockerfiles do
// (CGO_ENABLED=0, -trimpath, -s -w) and writes one docker-archive per image
// under -out with internal/ociimage, optionally importing each into
// containerd.
//
// With -binary it writes one image of any static binary instead (the
// cluster's CoreDNS, say):
//
//	go run ./hack/images -binary bin/coredns -ref localhost/svcat/coredns:1.15.0 -archive bin/images/coredns.tar
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"sigs.k8s.io/yaml"

	"github.com/svcat-io/svcat/internal/ociimage"
)

type options struct {
	out, registry, tag, version, only string
	containerd, namespace             string
	// one image of a given binary
	binary, ref, archive, entrypoint, user string
}

func main() {
	var o options
	flag.StringVar(&o.out, "out", "bin/images", "directory of the archives (<name>.tar) and of the binaries (bin/)")
	flag.StringVar(&o.registry, "registry", ociimage.Registry, "image repository prefix")
	flag.StringVar(&o.tag, "tag", "", "image tag (default: the appVersion of charts/svcat/Chart.yaml, which the chart uses when no tag is set)")
	flag.StringVar(&o.version, "version", "dev", "org.opencontainers.image.version label and what `svcat version` prints")
	flag.StringVar(&o.only, "only", "", "comma-separated components to write (default all: "+names()+")")
	flag.StringVar(&o.containerd, "containerd", "", "containerd socket to import each archive into (default: import nothing)")
	flag.StringVar(&o.namespace, "namespace", "k8s.io", "containerd namespace of -containerd (the CRI plugin's is k8s.io)")
	flag.StringVar(&o.binary, "binary", "", "write one image of this static binary instead of the components (needs -ref and -archive)")
	flag.StringVar(&o.ref, "ref", "", "with -binary: the image name (registry/repository:tag)")
	flag.StringVar(&o.archive, "archive", "", "with -binary: the archive to write")
	flag.StringVar(&o.entrypoint, "entrypoint", "", "with -binary: its path in the image (default /<file name>)")
	flag.StringVar(&o.user, "user", ociimage.NonrootUser, "with -binary: uid:gid to run as")
	flag.Parse()
	if flag.NArg() > 0 {
		fail(fmt.Errorf("unexpected arguments %q", flag.Args()))
	}
	ctx := context.Background()
	var err error
	if o.binary != "" {
		err = one(ctx, o)
	} else {
		err = all(ctx, o)
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "images:", err)
	os.Exit(1)
}

func names() string {
	var n []string
	for _, c := range ociimage.Components {
		n = append(n, c.Name)
	}
	return strings.Join(n, ",")
}

func one(ctx context.Context, o options) error {
	if o.ref == "" || o.archive == "" {
		return errors.New("-binary needs -ref (the image name) and -archive (the file to write)")
	}
	spec := ociimage.Spec{Binary: o.binary, Entrypoint: o.entrypoint, User: o.user, Version: o.version}
	return write(ctx, o, spec, o.ref, o.archive)
}

func all(ctx context.Context, o options) error {
	comps, err := selected(o.only)
	if err != nil {
		return err
	}
	if o.tag == "" {
		if o.tag, err = chartAppVersion("charts/svcat/Chart.yaml"); err != nil {
			return fmt.Errorf("no -tag and %w", err)
		}
	}
	binDir := filepath.Join(o.out, "bin")
	if err := build(ctx, comps, binDir, o.version); err != nil {
		return err
	}
	for _, c := range comps {
		spec := c.Spec(filepath.Join(binDir, c.Name), o.version)
		if err := write(ctx, o, spec, c.ImageRef(o.registry, o.tag), filepath.Join(o.out, c.Name+".tar")); err != nil {
			return fmt.Errorf("%s: %w", c.Name, err)
		}
	}
	return nil
}

func selected(only string) ([]ociimage.Component, error) {
	if only == "" {
		return ociimage.Components, nil
	}
	var out []ociimage.Component
	for _, n := range strings.Split(only, ",") {
		c, ok := ociimage.ComponentByName(strings.TrimSpace(n))
		if !ok {
			return nil, fmt.Errorf("-only: no component %q (have %s)", n, names())
		}
		out = append(out, c)
	}
	return out, nil
}

func chartAppVersion(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("cannot read the chart's appVersion (run from the repository root): %w", err)
	}
	var chart struct {
		AppVersion string `json:"appVersion"`
	}
	if err := yaml.Unmarshal(b, &chart); err != nil || chart.AppVersion == "" {
		return "", fmt.Errorf("%s has no appVersion (%v)", path, err)
	}
	return chart.AppVersion, nil
}

// build compiles the components' binaries in one go build, which shares
// the work between them, with the Dockerfiles' flags.
func build(ctx context.Context, comps []ociimage.Component, dir, version string) error {
	var names, pkgs []string
	for _, c := range comps {
		pkgs = append(pkgs, c.Package)
		names = append(names, c.Name)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	fmt.Printf("images: building %s with CGO_ENABLED=0 -trimpath into %s (about a minute with a cold build cache, seconds when warm)...\n", strings.Join(names, ", "), dir)
	start := time.Now()
	cmd := exec.CommandContext(ctx, "go", ociimage.GoBuildArgs(dir, version, pkgs...)...)
	cmd.Env = append(os.Environ(), ociimage.GoBuildEnv...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build: %w", err)
	}
	fmt.Printf("images: built %d binaries in %s\n", len(comps), since(start))
	return nil
}

func write(ctx context.Context, o options, spec ociimage.Spec, ref, archive string) error {
	start := time.Now()
	img, err := ociimage.Build(spec)
	if err != nil {
		return err
	}
	if err := ociimage.WriteArchive(archive, img, ref); err != nil {
		return err
	}
	fmt.Printf("images: wrote %s (%s) in %s\n", archive, describe(img, ref, archive), since(start))
	if o.containerd == "" {
		return nil
	}
	start = time.Now()
	if err := ociimage.Import(ctx, archive, o.containerd, o.namespace); err != nil {
		return err
	}
	fmt.Printf("images: imported %s into containerd %s (namespace %s) in %s\n", ref, o.containerd, o.namespace, since(start))
	return nil
}

func describe(img v1.Image, ref, archive string) string {
	d, err := img.Digest()
	if err != nil {
		return ref
	}
	s := ref + ", " + d.String()[:19]
	if fi, err := os.Stat(archive); err == nil {
		s += fmt.Sprintf(", %.1f MB", float64(fi.Size())/1e6)
	}
	return s
}

func since(t time.Time) string { return time.Since(t).Round(100 * time.Millisecond).String() }
