package cmd

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/cli/catalog"
)

func newCompletionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish",
		Short: "Print a shell completion script",
		Long: "Print a completion script for your shell. To load it:\n\n" +
			"  bash: source <(svcat completion bash)\n" +
			"  zsh:  svcat completion zsh > \"${fpath[1]}/_svcat\"\n" +
			"  fish: svcat completion fish | source",
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"bash", "zsh", "fish"},
		RunE: func(c *cobra.Command, args []string) error {
			root, out := c.Root(), c.OutOrStdout()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(out, true)
			case "zsh":
				return root.GenZshCompletion(out)
			case "fish":
				return root.GenFishCompletion(out, true)
			}
			return usageErrorf("unsupported shell %q: use bash, zsh or fish", args[0])
		},
	}
}

// Version is the client's version, set at build time with
// -ldflags "-X github.com/svcat-io/svcat/internal/cli/cmd.Version=v1.2.3".
var Version = ""

// clientVersion falls back to what the Go toolchain recorded, so that a
// go-installed binary still says which commit it is.
func clientVersion() string {
	if Version != "" {
		return Version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "devel-" + s.Value[:12]
		}
	}
	return "devel"
}

type version struct {
	clientOnly bool
	f          *Factory
}

func newVersionCmd(f *Factory) *cobra.Command {
	o := &version{}
	c := &cobra.Command{
		Use:   "version",
		Short: "Print the client's version and the server's",
		Args:  cobra.NoArgs,
		RunE:  runE(f, o),
	}
	c.Flags().BoolVarP(&o.clientOnly, "client", "c", false, "Only the client's version; do not contact the cluster")
	return c
}

func (o *version) Complete(f *Factory, _ []string) error {
	o.f = f
	return nil
}

func (o *version) Validate() error { return nil }

func (o *version) Run(_ context.Context) error {
	out := o.f.Streams.Out
	if _, err := fmt.Fprintf(out, "Client Version: %s\n", clientVersion()); err != nil || o.clientOnly {
		return err
	}
	dc, err := o.f.Config.ToDiscoveryClient()
	if err != nil {
		return fmt.Errorf("reading the kubeconfig: %w", err)
	}
	sv, err := dc.ServerVersion()
	if err != nil {
		return fmt.Errorf("asking the API server for its version: %w", err)
	}
	if _, err := fmt.Fprintf(out, "Kubernetes Version: %s\n", sv.GitVersion); err != nil {
		return err
	}
	api := v1beta1.GroupVersion.String()
	_, err = dc.ServerResourcesForGroupVersion(api)
	switch {
	case apierrors.IsNotFound(err):
		_, err = fmt.Fprintf(out, "Service Catalog API: not installed (install it with: %s)\n", catalog.InstallHint)
	case err != nil:
		return fmt.Errorf("asking the API server for %s: %w", api, err)
	default:
		_, err = fmt.Fprintf(out, "Service Catalog API: %s\n", api)
	}
	return err
}
