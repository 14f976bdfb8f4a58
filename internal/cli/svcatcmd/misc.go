package svcatcmd

import (
	"context"
	"fmt"
	"sort"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/cli/apiview"
	"github.com/svcat-io/svcat/internal/version"
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

// Version is the old place to set the client's version, still honoured
// because build/svcat/Dockerfile sets it:
// -ldflags "-X github.com/svcat-io/svcat/internal/cli/svcatcmd.Version=v1.2.3".
// New builds set github.com/svcat-io/svcat/internal/version.Version, which
// the catalog-controller shares.
var Version = ""

// buildInfo is a variable so that tests can fix the client's version and
// keep golden output independent of the toolchain and the commit.
var buildInfo = version.Get

// clientVersion is the "Client Version" line's value: version, commit when
// the toolchain recorded one, and Go version.
func clientVersion() string {
	i := buildInfo()
	if Version != "" {
		i.Version = Version
	}
	if c := i.ShortCommit(); c != "" {
		return fmt.Sprintf("%s (commit %s, %s)", i.Version, c, i.GoVersion)
	}
	return fmt.Sprintf("%s (%s)", i.Version, i.GoVersion)
}

type versionOptions struct {
	clientOnly bool
	f          *Factory
}

func newVersionCmd(f *Factory) *cobra.Command {
	o := &versionOptions{}
	c := &cobra.Command{
		Use:   "version",
		Short: "Print the client's version and the server's",
		Long: "Print the client's version, the Kubernetes version, whether the catalog API is\n" +
			"installed, and the catalog-controller's version. The controller's leader\n" +
			"publishes its version in a ConfigMap named " + version.ControllerInfoName + "\n" +
			"in its namespace; reading it needs permission to list ConfigMaps in all\n" +
			"namespaces. Without it, or without a running controller, the command says\n" +
			"the controller version is unknown and still succeeds.",
		Args: cobra.NoArgs,
		RunE: runE(f, o),
	}
	c.Flags().BoolVarP(&o.clientOnly, "client", "c", false, "Only the client's version; do not contact the cluster")
	return c
}

func (o *versionOptions) Complete(f *Factory, _ []string) error {
	o.f = f
	return nil
}

func (o *versionOptions) Validate() error { return nil }

func (o *versionOptions) Run(ctx context.Context) error {
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
		_, err = fmt.Fprintf(out, "Service Catalog API: not installed (install it with: %s)\n", apiview.InstallHint)
	case err != nil:
		return fmt.Errorf("asking the API server for %s: %w", api, err)
	default:
		_, err = fmt.Fprintf(out, "Service Catalog API: %s\n", api)
	}
	if err != nil {
		return err
	}
	for _, line := range o.serverVersions(ctx) {
		if _, err := fmt.Fprintf(out, "Server Version: %s\n", line); err != nil {
			return err
		}
	}
	return nil
}

// serverVersions reads the ConfigMaps the catalog-controller's leader
// publishes (internal/controllermanager/info.go), one line each. Not
// knowing is an answer, not a failure: the rest of the output is still
// right, so the reason is printed in place of the version.
func (o *versionOptions) serverVersions(ctx context.Context) []string {
	unknown := func(why string) []string { return []string{"controller version unknown: " + why} }
	c, err := o.f.Client()
	if err != nil {
		return unknown(err.Error())
	}
	sel := labels.SelectorFromSet(version.ControllerInfoLabels())
	var cms corev1.ConfigMapList
	err = c.C.List(ctx, &cms, client.MatchingLabelsSelector{Selector: sel})
	switch {
	case apierrors.IsForbidden(err):
		return unknown("you may not list configmaps in all namespaces, where the catalog-controller publishes its version " +
			"(check with: kubectl auth can-i list configmaps --all-namespaces)")
	case err != nil:
		return unknown("listing configmaps: " + err.Error())
	case len(cms.Items) == 0:
		return unknown("no catalog-controller has published its version (no ConfigMap labelled " + sel.String() +
			" in any namespace); is it running, and new enough to publish it?")
	}
	// Normally one; several means controllers in several namespaces, or
	// one left behind, and each is worth seeing.
	sort.Slice(cms.Items, func(i, j int) bool { return cms.Items[i].Namespace < cms.Items[j].Namespace })
	var lines []string
	for _, cm := range cms.Items {
		i := version.Info{Version: cm.Data[version.KeyVersion], GitCommit: cm.Data[version.KeyGitCommit]}
		if i.Version == "" {
			i.Version = "unknown"
		}
		detail := "namespace " + cm.Namespace
		if sc := i.ShortCommit(); sc != "" {
			detail = "commit " + sc + ", " + detail
		}
		lines = append(lines, fmt.Sprintf("%s (%s)", i.Version, detail))
	}
	return lines
}
