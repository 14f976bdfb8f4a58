// Command images writes the project's container images without a container
// engine (make images): ociimage.WriteComponents builds the binaries as the
// Dockerfiles do and writes one docker-archive per image under -out;
// -containerd imports each into containerd as well.
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
	"strings"
	"time"

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
	start := time.Now()
	img, err := ociimage.Build(ociimage.Spec{Binary: o.binary, Entrypoint: o.entrypoint, User: o.user, Version: o.version})
	if err != nil {
		return err
	}
	if err := ociimage.WriteArchive(o.archive, img, o.ref); err != nil {
		return err
	}
	id, err := img.ConfigName()
	if err != nil {
		return err
	}
	fmt.Printf("images: wrote %s (%s, id %s) in %s\n", o.archive, o.ref, id.String()[:19], since(start))
	return importInto(ctx, o, o.archive, o.ref)
}

func all(ctx context.Context, o options) error {
	comps, err := selected(o.only)
	if err != nil {
		return err
	}
	if o.tag == "" {
		if o.tag, err = ociimage.ChartAppVersion("charts/svcat/Chart.yaml"); err != nil {
			return fmt.Errorf("no -tag, and %w (run from the repository root)", err)
		}
	}
	written, err := ociimage.WriteComponents(ctx, ociimage.WriteOptions{
		Dir: o.out, Registry: o.registry, Tag: o.tag, Version: o.version,
		Components: comps, Progress: os.Stdout,
	})
	if err != nil {
		return err
	}
	for _, w := range written {
		if err := importInto(ctx, o, w.Archive, w.Ref); err != nil {
			return err
		}
	}
	return nil
}

func importInto(ctx context.Context, o options, archive, ref string) error {
	if o.containerd == "" {
		return nil
	}
	start := time.Now()
	if err := ociimage.Import(ctx, archive, o.containerd, o.namespace); err != nil {
		return err
	}
	fmt.Printf("images: imported %s into containerd %s (namespace %s) in %s\n", ref, o.containerd, o.namespace, since(start))
	return nil
}

func selected(only string) ([]ociimage.Component, error) {
	if only == "" {
		return nil, nil
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

func since(t time.Time) string { return time.Since(t).Round(100 * time.Millisecond).String() }
