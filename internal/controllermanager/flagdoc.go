package controllermanager

import (
	"flag"
	"fmt"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

// FlagReference renders every flag of the catalog-controller binary (its own
// and the logging flags) as a Markdown table, so the install docs are
// generated from the flags themselves and cannot drift from them.
func FlagReference() string {
	fs := flag.NewFlagSet("catalog-controller", flag.ContinueOnError)
	o := DefaultOptions()
	o.BindFlags(fs)
	zo := zap.Options{}
	zo.BindFlags(fs)
	var b strings.Builder
	b.WriteString("| flag | default | meaning |\n|---|---|---|\n")
	fs.VisitAll(func(f *flag.Flag) {
		def := f.DefValue
		if def == "" {
			def = "none"
		}
		usage := strings.ReplaceAll(strings.Join(strings.Fields(f.Usage), " "), "|", "\\|")
		fmt.Fprintf(&b, "| `--%s` | `%s` | %s |\n", f.Name, def, usage)
	})
	return b.String()
}
