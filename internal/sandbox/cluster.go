package sandbox

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/svcat-io/svcat/internal/localcluster"
)

// ClusterCommand runs `svcat-sandbox cluster up|down|status` (make cluster,
// make cluster-down): the one-node Kubernetes cluster of
// internal/localcluster, kept running after the command returns. It lives in
// the sandbox binary beside the quick demo so that one program starts both
// kinds of local cluster.
func ClusterCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	const usage = "usage: svcat-sandbox cluster up|down|status [--dir DIR] [--image TARBALL]... [--timeout D]\n"
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	verb := args[0]
	fs := flag.NewFlagSet("svcat-sandbox cluster "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "the cluster's folder (default $SVCAT_CLUSTER_DIR or "+localcluster.DefaultNodeDir+")")
	timeout := fs.Duration("timeout", 5*time.Minute, "with up: how long the bring-up may take")
	var images imageList
	fs.Var(&images, "image", "with up: an image tarball to import into the node besides pause and CoreDNS (repeatable)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	switch verb {
	case "up":
		c, err := localcluster.StartNode(ctx, localcluster.NodeOptions{Dir: *dir, Images: images, Out: stdout, Timeout: *timeout})
		if err != nil {
			fmt.Fprintln(stderr, "svcat-sandbox cluster up:", err)
			return 1
		}
		fmt.Fprintf(stdout, "\nThe cluster keeps running; 'make cluster-down' removes it. Logs: %s/logs\n%s\n", c.Dir, c.ExportLine())
		return 0
	case "down":
		if err := localcluster.StopNode(ctx, localcluster.NodeOptions{Dir: *dir, Out: stdout}); err != nil {
			fmt.Fprintln(stderr, "svcat-sandbox cluster down:", err)
			return 1
		}
		return 0
	case "status":
		fmt.Fprint(stdout, localcluster.NodeStatus(*dir))
		return 0
	default:
		fmt.Fprint(stderr, usage)
		return 2
	}
}

type imageList []string

func (l *imageList) String() string     { return fmt.Sprint([]string(*l)) }
func (l *imageList) Set(v string) error { *l = append(*l, v); return nil }
