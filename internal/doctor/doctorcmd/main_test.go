package doctorcmd

import (
	"io"
	"testing"

	"github.com/go-logr/logr"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/svcat-io/svcat/internal/localcluster"
)

func TestMain(m *testing.M) {
	// The controller logs through controller-runtime; the tests report
	// what matters.
	ctrllog.SetLogger(logr.Discard())
	localcluster.Main(m)
}

// newTestRoot is a root command like svcat's: the kubeconfig flags are
// persistent flags of the root, and doctor is one subcommand.
func newTestRoot(out, errOut io.Writer) *cobra.Command {
	cfg := genericclioptions.NewConfigFlags(true)
	streams := genericiooptions.IOStreams{Out: out, ErrOut: errOut}
	root := &cobra.Command{Use: "svcat", SilenceErrors: true, SilenceUsage: true}
	root.SetOut(out)
	root.SetErr(errOut)
	cfg.AddFlags(root.PersistentFlags())
	root.AddCommand(NewCmdDoctor(streams, cfg))
	return root
}
