package ociimage

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	keyword string // upper case
	args    string
}

// stages splits a Dockerfile into its stages' instructions; enough of the
// syntax for build/*/Dockerfile (comments, backslash continuations).
func stages(text string) [][]instruction {
	var out [][]instruction
	var cur strings.Builder
	flush := func() {
		line := strings.TrimSpace(cur.String())
		cur.Reset()
		if line == "" {
			return
		}
		kw, args, _ := strings.Cut(line, " ")
		in := instruction{keyword: strings.ToUpper(kw), args: strings.TrimSpace(args)}
		if in.keyword == "FROM" || len(out) == 0 {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], in)
	}
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if body, ok := strings.CutSuffix(strings.TrimRight(line, " \t"), `\`); ok {
			cur.WriteString(body + " ")
			continue
		}
		cur.WriteString(line)
		flush()
	}
	flush()
	return out
}

// TestDockerfilesMatchOciimage holds build/<name>/Dockerfile and the image
// make images writes for <name> to one spec: the Dockerfile's final stage
// may only be the distroless static nonroot base (which BaseLayer mirrors),
// the binary COPYed to the entrypoint, USER and ENTRYPOINT, and those must be
// what the written image's config says; its go build must use the flags and
// package make images uses. Changing either side alone fails here.
func TestDockerfilesMatchOciimage(t *testing.T) {
	root := repoRoot(t)
	bin := filepath.Join(testBinaries(t), "pause")
	dockerfiles, err := filepath.Glob(filepath.Join(root, "build", "*", "Dockerfile"))
	if err != nil || len(dockerfiles) == 0 {
		t.Fatalf("no build/*/Dockerfile under %s (%v)", root, err)
	}
	seen := map[string]bool{}
	for _, path := range dockerfiles {
		name := filepath.Base(filepath.Dir(path))
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			c, ok := ComponentByName(name)
			if !ok || !c.Dockerfile {
				t.Fatalf("build/%s/Dockerfile has no ociimage.Components entry with Dockerfile: true, so make images does not write its image", name)
			}
			text, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			st := stages(string(text))
			if len(st) < 2 {
				t.Fatalf("%d stages, want a build stage and the final image", len(st))
			}

			// The build stage compiles as GoBuildArgs/GoBuildEnv do.
			var goBuild string
			for _, in := range st[len(st)-2] {
				if in.keyword == "RUN" && strings.Contains(in.args, "go build") {
					goBuild = in.args
				}
			}
			for _, want := range append([]string{"-trimpath", `-ldflags "-s -w`, c.Package}, GoBuildEnv[0]) {
				if !strings.Contains(goBuild, want) {
					t.Errorf("the build stage's go build lacks %q (make images builds with it): %s", want, goBuild)
				}
			}

			img, err := Build(c.Spec(bin, "v"))
			if err != nil {
				t.Fatal(err)
			}
			cf, err := img.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			final := st[len(st)-1]
			from := strings.Fields(final[0].args)[0]
			if !regexp.MustCompile(`^gcr\.io/distroless/static(-debian\d+)?:nonroot$`).MatchString(from) {
				t.Errorf("final base %q: ociimage's base layer mirrors distroless static :nonroot; change both or neither", from)
			}
			var copied []string
			for _, in := range final[1:] {
				switch in.keyword {
				case "COPY":
					f := strings.Fields(in.args)
					if len(f) != 3 || f[0] != "--from=build" || f[1] != "/out/"+name {
						t.Errorf("COPY %s: want COPY --from=build /out/%s <entrypoint>", in.args, name)
						continue
					}
					copied = append(copied, f[2])
				case "USER":
					if in.args != cf.Config.User {
						t.Errorf("USER %s, the written image runs as %s", in.args, cf.Config.User)
					}
				case "ENTRYPOINT":
					var ep []string
					if err := json.Unmarshal([]byte(in.args), &ep); err != nil {
						t.Errorf("ENTRYPOINT %s is not the exec (JSON) form: %v", in.args, err)
					}
					if !slices.Equal(ep, cf.Config.Entrypoint) {
						t.Errorf("ENTRYPOINT %q, the written image's is %q", ep, cf.Config.Entrypoint)
					}
				default:
					t.Errorf("the final stage has %s %s, which ociimage does not mirror: add it to ociimage.Spec (and this test) or drop it", in.keyword, in.args)
				}
			}
			if !slices.Equal(copied, cf.Config.Entrypoint) {
				t.Errorf("the binary is copied to %q, the written image's entrypoint is %q", copied, cf.Config.Entrypoint)
			}
		})
	}
	for _, c := range Components {
		if c.Dockerfile && !seen[c.Name] {
			t.Errorf("component %s says it has a Dockerfile, build/%s/Dockerfile is missing", c.Name, c.Name)
		}
	}
}
