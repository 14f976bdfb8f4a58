package ociimage

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"sigs.k8s.io/yaml"
)

// WriteOptions say which component images WriteComponents writes where.
type WriteOptions struct {
	// Dir receives <name>.tar per image and the binaries under bin/.
	Dir string
	// Registry and Tag name the images (Component.ImageRef).
	Registry, Tag string
	// Version is the images' version label and what `svcat version` prints.
	Version string
	// Components to write (default: all of Components).
	Components []Component
	// RepoRoot is the module root go build runs in (default: the working
	// directory).
	RepoRoot string
	// Progress receives a line per step with its duration (default: none).
	Progress io.Writer
}

// Written is one archive WriteComponents wrote.
type Written struct {
	Component Component
	Ref       string
	Archive   string
	// ID is the config's digest, the image ID that docker and crictl show.
	// The manifest digest is not kept: a docker-archive has no manifest,
	// and the loader (ctr, docker load) makes its own.
	ID v1.Hash
}

// WriteComponents builds the components' binaries as the Dockerfiles do
// (one go build, GoBuildArgs) and writes one archive per image: what `make
// images` does, for tooling that wants it from Go.
func WriteComponents(ctx context.Context, o WriteOptions) ([]Written, error) {
	if o.Dir == "" || o.Registry == "" || o.Tag == "" {
		return nil, fmt.Errorf("ociimage: WriteOptions needs Dir, Registry and Tag (got %q, %q, %q)", o.Dir, o.Registry, o.Tag)
	}
	comps := o.Components
	if len(comps) == 0 {
		comps = Components
	}
	progress := o.Progress
	if progress == nil {
		progress = io.Discard
	}
	binDir, err := filepath.Abs(filepath.Join(o.Dir, "bin"))
	if err != nil {
		return nil, err
	}
	if err := goBuild(ctx, comps, binDir, o.Version, o.RepoRoot, progress); err != nil {
		return nil, err
	}
	var out []Written
	for _, c := range comps {
		start := time.Now()
		img, err := Build(c.Spec(filepath.Join(binDir, c.Name), o.Version))
		if err != nil {
			return out, fmt.Errorf("%s: %w", c.Name, err)
		}
		w := Written{Component: c, Ref: c.ImageRef(o.Registry, o.Tag), Archive: filepath.Join(o.Dir, c.Name+".tar")}
		if err := WriteArchive(w.Archive, img, w.Ref); err != nil {
			return out, fmt.Errorf("%s: %w", c.Name, err)
		}
		if w.ID, err = img.ConfigName(); err != nil {
			return out, err
		}
		size := ""
		if fi, err := os.Stat(w.Archive); err == nil {
			size = fmt.Sprintf(", %.1f MB", float64(fi.Size())/1e6)
		}
		fmt.Fprintf(progress, "images: wrote %s (%s, id %s%s) in %s\n", w.Archive, w.Ref, w.ID.String()[:19], size, since(start))
		out = append(out, w)
	}
	return out, nil
}

func goBuild(ctx context.Context, comps []Component, dir, version, root string, progress io.Writer) error {
	var names, pkgs []string
	for _, c := range comps {
		pkgs = append(pkgs, c.Package)
		names = append(names, c.Name)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	fmt.Fprintf(progress, "images: building %s with CGO_ENABLED=0 -trimpath into %s (about 2 min with a cold build cache on 2 cores, seconds when warm)...\n", strings.Join(names, ", "), dir)
	start := time.Now()
	cmd := exec.CommandContext(ctx, "go", GoBuildArgs(dir, version, pkgs...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), GoBuildEnv...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("ociimage: go build %s: %w\n%s", strings.Join(pkgs, " "), err, out)
	}
	fmt.Fprintf(progress, "images: built %d binaries in %s\n", len(comps), since(start))
	return nil
}

// ChartAppVersion reads appVersion from a Chart.yaml: the tag the chart
// gives the images when none is set.
func ChartAppVersion(chartYAML string) (string, error) {
	b, err := os.ReadFile(chartYAML)
	if err != nil {
		return "", fmt.Errorf("ociimage: reading the chart's appVersion: %w", err)
	}
	var chart struct {
		AppVersion string `json:"appVersion"`
	}
	if err := yaml.Unmarshal(b, &chart); err != nil || chart.AppVersion == "" {
		return "", fmt.Errorf("ociimage: %s has no appVersion (%v)", chartYAML, err)
	}
	return chart.AppVersion, nil
}

func since(t time.Time) string { return time.Since(t).Round(100 * time.Millisecond).String() }
