package svcatcmd_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/svcat-io/svcat/internal/cli/svcatcmd"
	"github.com/svcat-io/svcat/internal/localcluster"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ with the output the tests get")

func TestMain(m *testing.M) { localcluster.Main(m) }

// result is what one svcat invocation printed and returned.
type result struct {
	stdout, stderr string
	code           int
}

// svcat runs the command tree in-process against the test API server, the
// way a person runs the binary: kubeconfig, namespace, arguments and input.
func svcat(t *testing.T, env *localcluster.Env, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	full := append([]string{"--kubeconfig", env.Kubeconfig}, args...)
	code := svcatcmd.Run(ctx, streams, "svcat", full)
	return result{stdout: out.String(), stderr: errOut.String(), code: code}
}

// goldenCase is one svcat command line and the golden file its output must match.
type goldenCase struct {
	golden string
	args   []string
}

// checkGoldens runs each case as a subtest: the command must succeed with
// nothing on stderr and print its golden file.
func checkGoldens(t *testing.T, env *localcluster.Env, cases []goldenCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.golden, func(t *testing.T) {
			r := svcat(t, env, "", tt.args...)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
			}
			golden(t, tt.golden, r.stdout)
		})
	}
}

// golden compares got with testdata/<name>.txt, or rewrites the file when
// the test runs with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".txt")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the golden file (run the test with -update to create it): %v", err)
	}
	if d := lineDiff(string(want), got); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, d)
	}
}

// lineDiff is a minimal line diff in the "(-want +got)" form, with line
// ends marked so trailing spaces, which the tables have, are visible.
func lineDiff(want, got string) string {
	if want == got {
		return ""
	}
	a, b := strings.SplitAfter(want, "\n"), strings.SplitAfter(got, "\n")
	// lcs[i][j] is the length of the longest common subsequence of a[i:]
	// and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var sb strings.Builder
	show := func(prefix, line string) {
		sb.WriteString(prefix + strings.TrimSuffix(line, "\n") + "|\n")
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			show("  ", a[i])
			i, j = i+1, j+1
		case j < len(b) && (i == len(a) || lcs[i][j+1] >= lcs[i+1][j]):
			show("+ ", b[j])
			j++
		default:
			show("- ", a[i])
			i++
		}
	}
	return sb.String()
}
