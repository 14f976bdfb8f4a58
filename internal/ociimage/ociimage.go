// Package ociimage writes container images of the project's static binaries
// without a container engine, with the properties of the images that
// build/<binary>/Dockerfile makes on gcr.io/distroless/static-debian12:nonroot:
// UID/GID 65532, CA certificates, /etc/passwd and /etc/group, /tmp, no shell,
// the binary as the entrypoint. The image format, layers and archives are
// go-containerregistry's; this package only decides what goes in them.
//
// An image has two layers, as the Dockerfile's do: the base (the same bytes
// for every image, so containerd stores it once) and the binary.
//
// Images are reproducible: every timestamp is fixed, so the same binary and
// the same host CA bundle give the same digest.
package ociimage

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const (
	// NonrootUser is distroless' nonroot user and group, which the chart's
	// securityContext (runAsUser/runAsGroup 65532) expects.
	NonrootUser = "65532:65532"
	nonrootID   = 65532

	// HostCABundle is where Debian's ca-certificates package writes the
	// bundle; distroless static ships the same file at the same path.
	HostCABundle = "/etc/ssl/certs/ca-certificates.crt"
	caBundlePath = "etc/ssl/certs/ca-certificates.crt"

	// SourceURL is the org.opencontainers.image.source label.
	SourceURL = "https://github.com/svcat-io/svcat"
)

// Epoch is every timestamp in an image: files, history and the config's
// created. A fixed time is what makes two builds of the same binary the same
// image; the Unix epoch is what other reproducible builders use, so nobody
// reads it as a real build date.
var Epoch = time.Unix(0, 0).UTC()

// distrolessEnv is the environment distroless static sets: Go's crypto/x509
// finds the bundle without SSL_CERT_FILE, other runtimes may not.
var distrolessEnv = []string{
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
}

// Spec is one image: a static binary and what the image says about it.
type Spec struct {
	// Binary is the path of the static executable on this machine.
	Binary string
	// Entrypoint is the binary's path in the image (default "/" + its
	// file name, as the Dockerfiles COPY it).
	Entrypoint string
	// Args is the image's Cmd, the entrypoint's default arguments.
	Args []string
	// User is "uid:gid" (default NonrootUser).
	User string
	// Version is the org.opencontainers.image.version label.
	Version string
	// Env is added after distroless' PATH and SSL_CERT_FILE.
	Env []string
	// ExposedPorts are informational ("8080/tcp"), as EXPOSE is.
	ExposedPorts []string
	// CABundle is the host file copied to /etc/ssl/certs/ca-certificates.crt
	// (default HostCABundle).
	CABundle string
}

// Build makes the image of spec. It refuses a binary that is not a static
// ELF executable, since nothing in the image could load a dynamic one.
func Build(spec Spec) (v1.Image, error) {
	if spec.Binary == "" {
		return nil, errors.New("ociimage: Spec.Binary is empty: give the path of a static executable")
	}
	arch, err := CheckStatic(spec.Binary)
	if err != nil {
		return nil, err
	}
	bin, err := os.ReadFile(spec.Binary)
	if err != nil {
		return nil, fmt.Errorf("ociimage: reading the binary: %w", err)
	}
	entry := spec.Entrypoint
	if entry == "" {
		entry = "/" + path.Base(spec.Binary)
	}
	if !path.IsAbs(entry) || path.Clean(entry) != entry || entry == "/" {
		return nil, fmt.Errorf("ociimage: entrypoint %q is not a clean absolute file path (want e.g. /catalog-controller)", entry)
	}
	base, err := BaseLayer(spec.CABundle)
	if err != nil {
		return nil, err
	}
	app, err := layerOf(binaryFiles(entry, bin))
	if err != nil {
		return nil, err
	}

	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	created := v1.Time{Time: Epoch}
	img, err = mutate.Append(img,
		mutate.Addendum{Layer: base, History: v1.History{Created: created, CreatedBy: "svcat ociimage: distroless static nonroot equivalent (passwd, group, CA bundle, /tmp, /home/nonroot)", Comment: "base"}},
		mutate.Addendum{Layer: app, History: v1.History{Created: created, CreatedBy: "svcat ociimage: COPY " + path.Base(spec.Binary) + " " + entry}},
	)
	if err != nil {
		return nil, fmt.Errorf("ociimage: adding layers: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("ociimage: reading the config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.Created = created
	cf.OS = "linux"
	cf.Architecture = arch
	cf.Config = configOf(spec, entry)
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("ociimage: setting the config: %w", err)
	}
	return img, nil
}

// configOf is the runtime configuration, pure so the Dockerfile equivalence
// test can read it as the image will carry it.
func configOf(spec Spec, entry string) v1.Config {
	user := spec.User
	if user == "" {
		user = NonrootUser
	}
	labels := map[string]string{"org.opencontainers.image.source": SourceURL}
	if spec.Version != "" {
		labels["org.opencontainers.image.version"] = spec.Version
	}
	var ports map[string]struct{}
	if len(spec.ExposedPorts) > 0 {
		ports = map[string]struct{}{}
		for _, p := range spec.ExposedPorts {
			ports[p] = struct{}{}
		}
	}
	return v1.Config{
		User:         user,
		Entrypoint:   []string{entry},
		Cmd:          spec.Args,
		Env:          append(append([]string{}, distrolessEnv...), spec.Env...),
		WorkingDir:   "/home/nonroot",
		Labels:       labels,
		ExposedPorts: ports,
	}
}

// entry is one file or directory of a layer.
type entry struct {
	name     string // relative, no leading slash
	mode     int64  // permission bits plus sticky, as tar stores them
	uid, gid int
	dir      bool
	data     []byte
}

// baseFiles are what distroless static:nonroot provides that a Go binary can
// use. tzdata is left out on purpose: none of the binaries loads a named
// zone, the host's tzdata changes with Debian updates (it would make the
// digest depend on the day the host was patched), and a binary that ever
// needs zones should import time/tzdata, which carries them inside it.
func baseFiles(caBundle []byte) []entry {
	const passwd = "root:x:0:0:root:/root:/sbin/nologin\n" +
		"nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n" +
		"nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
	const group = "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n"
	// Go's resolver and glibc's both read it; "files dns" is what distroless
	// ships, so /etc/hosts is consulted before DNS.
	const nsswitch = "hosts: files dns\n"
	return []entry{
		{name: "etc", mode: 0o755, dir: true},
		{name: "etc/group", mode: 0o644, data: []byte(group)},
		{name: "etc/nsswitch.conf", mode: 0o644, data: []byte(nsswitch)},
		{name: "etc/passwd", mode: 0o644, data: []byte(passwd)},
		{name: "etc/ssl", mode: 0o755, dir: true},
		{name: "etc/ssl/certs", mode: 0o755, dir: true},
		{name: caBundlePath, mode: 0o644, data: caBundle},
		{name: "home", mode: 0o755, dir: true},
		{name: "home/nonroot", mode: 0o700, uid: nonrootID, gid: nonrootID, dir: true},
		{name: "root", mode: 0o700, dir: true},
		{name: "tmp", mode: 0o1777, dir: true},
	}
}

func binaryFiles(entrypoint string, bin []byte) []entry {
	return []entry{{name: entrypoint[1:], mode: 0o755, data: bin}}
}

// BaseLayer is the layer every image starts with. caBundle is the host
// file to copy (empty: HostCABundle).
func BaseLayer(caBundle string) (v1.Layer, error) {
	if caBundle == "" {
		caBundle = HostCABundle
	}
	ca, err := os.ReadFile(caBundle)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("ociimage: no CA bundle at %s: the images need one for TLS to brokers, Kafka and the API server; install it with 'apt-get install ca-certificates' (Debian) or point Spec.CABundle at a PEM bundle", caBundle)
	}
	if err != nil {
		return nil, fmt.Errorf("ociimage: reading the CA bundle: %w", err)
	}
	if !bytes.Contains(ca, []byte("-----BEGIN CERTIFICATE-----")) {
		return nil, fmt.Errorf("ociimage: %s holds no PEM certificate; want the bundle of Debian's ca-certificates", caBundle)
	}
	return layerOf(baseFiles(ca))
}

// layerOf feeds entries to archive/tar with fixed owners and times and lets
// go-containerregistry compress and digest the stream.
func layerOf(entries []entry) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{
			Name:    e.name,
			Mode:    e.mode,
			Uid:     e.uid,
			Gid:     e.gid,
			ModTime: Epoch,
			Format:  tar.FormatPAX,
		}
		if e.dir {
			h.Typeflag = tar.TypeDir
			h.Name += "/"
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("ociimage: layer entry %s: %w", e.name, err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, fmt.Errorf("ociimage: layer entry %s: %w", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	raw := buf.Bytes()
	opener := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil }
	// Compressed caching: the library reads the compressed stream for the
	// digest, the size and the archive; compressing a 60 MB binary once is
	// enough.
	return tarball.LayerFromOpener(opener, tarball.WithMediaType(types.OCILayer), tarball.WithCompressedCaching)
}
