package svcatcmd_test

import (
	"strings"
	"testing"

	"github.com/svcat-io/svcat/internal/localcluster"
)

// TestSeedOutputs compares with the outputs printed in the seed blog post,
// copied here verbatim, so that refreshing the golden files with -update
// cannot drift away from them. The post's marketplace table lost the
// trailing blanks of its last line, so trailing blanks are not compared
// there. (Its `svcat get classes` predates v0.3's BROKER column; the
// get-classes golden file has v0.3's shape.)
func TestSeedOutputs(t *testing.T) {
	env := localcluster.Get(t)
	seedCatalog(t, env)
	tests := []struct {
		args         []string
		want         string
		trimTrailing bool
	}{
		{[]string{"-n", "default", "describe", "instance", "demo-kafka"},
			"  Name:           demo-kafka                                                                         \n" +
				"  Namespace:      default                                                                            \n" +
				"  Status:         Ready - The instance was provisioned successfully @ 2019-01-06 11:52:19 +0000 UTC  \n" +
				"  DashboardURL:   https://customer.cloudkarafka.com/instance/6980/sso                                \n" +
				"  Class:          cloudkarafka                                                                       \n" +
				"  Plan:           duck                                                                               \n" +
				"\n" +
				"Parameters:\n" +
				"  No parameters defined\n" +
				"\n" +
				"Bindings:\n" +
				"No bindings defined\n", false},
		{[]string{"get", "plans"},
			"  NAME   NAMESPACE      CLASS        DESCRIPTION    \n" +
				"+------+-----------+--------------+----------------+\n" +
				"  duck               cloudkarafka   Developer Duck  \n", false},
		{[]string{"marketplace"},
			"     CLASS       PLANS   DESCRIPTION   \n" +
				"+--------------+-------+--------------+\n" +
				"  cloudkarafka   duck    CloudKarafka \n", true},
	}
	for _, tt := range tests {
		r := svcat(t, env, "", tt.args...)
		mustSucceed(t, r)
		got, want := r.stdout, tt.want
		if tt.trimTrailing {
			got, want = trimLines(got), trimLines(want)
		}
		if d := lineDiff(want, got); d != "" {
			t.Errorf("svcat %s differs from the seed (-seed +got):\n%s", strings.Join(tt.args, " "), d)
		}
	}
}

func trimLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}
