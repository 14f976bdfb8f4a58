package packaging

import (
	"debug/elf"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// There is no container engine on the machines this runs on, so the images
// themselves are not built here. What can be checked is checked: every
// binary has a Dockerfile of the required shape, the binary it builds
// compiles with CGO_ENABLED=0 into a static executable (the distroless
// static base has no C library), and its user is the one the chart's
// securityContext runs as.
func TestDockerfiles(t *testing.T) {
	root := repoRoot(t)
	for _, name := range shippedBinaries {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(root, "build", name, "Dockerfile"))
			if err != nil {
				t.Fatalf("no Dockerfile for cmd/%s: %v", name, err)
			}
			df := string(b)
			froms := regexp.MustCompile(`(?m)^FROM\s+(.*)$`).FindAllStringSubmatch(df, -1)
			if len(froms) < 2 {
				t.Fatalf("%d stages, want a multi-stage build", len(froms))
			}
			final := strings.Fields(froms[len(froms)-1][1])[0]
			if !regexp.MustCompile(`^gcr\.io/distroless/static(-debian\d+)?:nonroot$`).MatchString(final) {
				t.Errorf("final base %q is not distroless static :nonroot", final)
			}
			for _, want := range []string{
				"CGO_ENABLED=0",
				"./cmd/" + name + "\n",
				"COPY --from=build /out/" + name + " /" + name + "\n",
				"USER 65532:65532\n",
				`ENTRYPOINT ["/` + name + `"]`,
			} {
				if !strings.Contains(df, want) {
					t.Errorf("Dockerfile lacks %q", strings.TrimSpace(want))
				}
			}
			if _, err := os.Stat(filepath.Join(root, "build", name, "Dockerfile.dockerignore")); err != nil {
				t.Errorf("no Dockerfile.dockerignore: the build context would include bin/ and .git: %v", err)
			}

			// The Dockerfile's build, minus the engine.
			out := filepath.Join(binaries(t), name)
			f, err := elf.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			for _, p := range f.Progs {
				if p.Type == elf.PT_INTERP {
					t.Error("the binary needs a dynamic loader")
				}
			}
			if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
				t.Errorf("the binary links %v", libs)
			}
		})
	}
	// The chart runs every pod as the images' user.
	for _, u := range ofKind(renderChart(t, "svcat", "svcat-system", embeddedValues(t)), "Deployment") {
		d := deploymentOf(t, u)
		if sc := d.Spec.Template.Spec.SecurityContext; sc == nil || sc.RunAsUser == nil || *sc.RunAsUser != 65532 {
			t.Errorf("%s does not run as 65532, the distroless nonroot user", d.Name)
		}
	}
}
