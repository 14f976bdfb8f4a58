package svcatcmd

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/svcat-io/svcat/internal/cli/apiview"
	"github.com/svcat-io/svcat/internal/cli/output"
)

// describeShared stands in for describe instance when the instance ns/name
// could not be read (readErr): a user of the consuming namespace has no
// right to read it where it lives. What their namespace holds of it, the
// marker and their bindings, is shown instead. When there is no marker the
// error is the one for an instance never shared with them, whatever exists
// in ns, so that describe tells nothing of other namespaces. bare is true
// when the user gave NAME without a namespace.
func (o *describeInstance) describeShared(ctx context.Context, ns, name string, bare bool, readErr error) error {
	if !apiview.MarkerMayStandIn(readErr) || !bare && ns == o.ns {
		return readErr
	}
	var s apiview.SharedInstance
	if bare {
		// A bare NAME is the namespace's own instance first; only when
		// there is none may it name one instance shared with it.
		var nf *apiview.NotFoundError
		if !errors.As(readErr, &nf) {
			return readErr
		}
		shared, _, err := o.c.SharedWith(ctx, o.ns)
		if err != nil {
			return readErr
		}
		var ok bool
		if s, ok, err = apiview.SharedNamed(shared, name); err != nil {
			return err
		} else if !ok {
			return readErr
		}
	} else {
		var err error
		if s, err = o.c.SharedInstanceIn(ctx, o.ns, ns, name); err != nil {
			var nf *apiview.NotFoundError
			if errors.As(err, &nf) {
				return err
			}
			// The marker could not be read: say what failed first.
			return readErr
		}
	}
	bindings, err := o.c.BindingsOfShared(ctx, o.ns, s.Namespace, s.Name)
	if err != nil {
		return err
	}
	return output.SharedInstanceDetails(o.f.Streams.Out, s, o.ns, bindings)
}

// listInstancesAndShared completes the instances of the namespace and, as
// NAMESPACE/NAME, those other namespaces share with it: describe instance
// and bind take both.
func listInstancesAndShared(ctx context.Context, f *Factory, cmd *cobra.Command) ([]string, error) {
	names, err := listInstances(ctx, f, cmd)
	c, ns, cerr := clientAndNamespace(f)
	if cerr != nil {
		return names, err
	}
	for _, s := range sharedMarkers(ctx, c, ns) {
		names = append(names, s.Namespace+"/"+s.Name)
	}
	if len(names) > 0 {
		// A user who may not list the namespace's instances can still
		// have instances shared with it.
		err = nil
	}
	return names, err
}
