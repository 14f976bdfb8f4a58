package ociimage

// Registry is where the chart (charts/svcat/values.yaml) and config/manager
// look for the images; their tag is the chart's appVersion unless set.
const Registry = "ghcr.io/svcat-io"

// PauseRef is the sandbox image's name. It is fixed, not the release tag,
// so a containerd config that names it (CRI sandbox_image) stays valid
// across releases; "localhost/" says it is never pulled from anywhere.
const PauseRef = "localhost/svcat/pause:1"

// Component is one image that `make images` writes.
type Component struct {
	// Name is the binary's and the image repository's name.
	Name string
	// Package is the Go package of the binary (go build argument).
	Package string
	// Dockerfile: build/<Name>/Dockerfile makes the same image with an
	// engine (the equivalence test holds both to one spec).
	Dockerfile bool
	// Ref, when set, is the image's fixed name (registry and tag ignored).
	Ref string
}

// Components are the images of the project, the shipped binaries, the demo
// apps and the cluster's pause image.
var Components = []Component{
	{Name: "catalog-controller", Package: "./cmd/catalog-controller", Dockerfile: true},
	{Name: "kafka-broker", Package: "./cmd/kafka-broker", Dockerfile: true},
	{Name: "svcat", Package: "./cmd/svcat", Dockerfile: true},
	{Name: "demo-kafka-producer", Package: "./cmd/demo-kafka-producer", Dockerfile: true},
	{Name: "demo-kafka-consumer", Package: "./cmd/demo-kafka-consumer", Dockerfile: true},
	{Name: "pause", Package: "./hack/pause", Ref: PauseRef},
}

// ComponentByName finds a component of Components.
func ComponentByName(name string) (Component, bool) {
	for _, c := range Components {
		if c.Name == name {
			return c, true
		}
	}
	return Component{}, false
}

// ImageRef is the component's image name under registry with tag.
func (c Component) ImageRef(registry, tag string) string {
	if c.Ref != "" {
		return c.Ref
	}
	return registry + "/" + c.Name + ":" + tag
}

// Spec is the component's image spec for binary: the binary at /<Name>, as
// the Dockerfiles COPY it, run as NonrootUser.
func (c Component) Spec(binary, version string) Spec {
	return Spec{Binary: binary, Entrypoint: "/" + c.Name, User: NonrootUser, Version: version}
}

// VersionVar is the variable `svcat version` prints; the svcat Dockerfile
// sets it from its VERSION argument.
const VersionVar = "github.com/svcat-io/svcat/internal/cli/cmd.Version"

// GoBuildEnv and GoBuildArgs build the components' binaries as the
// Dockerfiles' build stage does: static (no C library in the image),
// without build paths, without symbol tables.
var GoBuildEnv = []string{"CGO_ENABLED=0", "GOOS=linux"}

// GoBuildArgs are `go` arguments that build pkgs into outDir.
func GoBuildArgs(outDir, version string, pkgs ...string) []string {
	args := []string{"build", "-trimpath", "-ldflags", "-s -w -X " + VersionVar + "=" + version, "-o", outDir + "/"}
	return append(args, pkgs...)
}
