package svcatcmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/cli/apiview"
	"github.com/svcat-io/svcat/internal/cli/output"
	"github.com/svcat-io/svcat/internal/cli/resolve"
	"github.com/svcat-io/svcat/internal/cli/wait"
)

// The checks below decide from one observation whether an operation is
// over. They are pure so the decisions are tested without a cluster.

// settled decides whether an object is done with its latest change: Ready
// True means it succeeded, Failed True that it failed for good. While busy
// (the controller has not caught up, or the broker is still working) an old
// Ready must not count.
func settled(conds []output.Condition, busy bool, what string) wait.State {
	var st wait.State
	if len(conds) > 0 {
		st.Condition = conds[len(conds)-1].String()
	}
	if busy {
		return st
	}
	for _, c := range conds {
		if c.Status != v1beta1.ConditionTrue {
			continue
		}
		switch c.Type {
		case "Failed":
			st.Err = fmt.Errorf("%s failed: %s: %s", what, c.Reason, c.Message)
			st.Done = true
			return st
		case "Ready":
			st.Done = true
		}
	}
	return st
}

func instanceSettled(in *v1beta1.ServiceInstance) wait.State {
	busy := in.Status.ObservedGeneration < in.Generation || in.Status.AsyncOpInProgress
	return settled(output.InstanceConditions(in.Status), busy, fmt.Sprintf("instance %s/%s", in.Namespace, in.Name))
}

func bindingSettled(b *v1beta1.ServiceBinding) wait.State {
	return settled(output.BindingConditions(b.Status), b.Status.AsyncOpInProgress, fmt.Sprintf("binding %s/%s", b.Namespace, b.Name))
}

func brokerSettled(b apiview.Broker) wait.State {
	return settled(output.BrokerConditions(*b.Status), false, "broker "+b.Name)
}

// deletionState: a deletion is over when the object is gone. A failed
// deprovision or unbind ends the wait with the broker's reason.
func deletionState(cond output.Condition, failed bool, what string) wait.State {
	st := wait.State{Condition: cond.String()}
	if failed {
		st.Done = true
		st.Err = fmt.Errorf("%s failed at the broker: %s\nRetry later, or use --abandon to leave the broker's resources behind", what, cond)
	}
	return st
}

func waitInstanceSettled(c *apiview.Client, ns, name string) wait.Check {
	return func(ctx context.Context) (wait.State, error) {
		in, err := c.Instance(ctx, ns, name)
		if err != nil {
			return wait.State{}, err
		}
		return instanceSettled(in), nil
	}
}

func waitInstanceGone(c *apiview.Client, ns, name string) wait.Check {
	return func(ctx context.Context) (wait.State, error) {
		in, err := c.Instance(ctx, ns, name)
		if isNotFound(err) {
			return wait.State{Done: true}, nil
		}
		if err != nil {
			return wait.State{}, err
		}
		return deletionState(output.InstanceCondition(in.Status),
			in.Status.DeprovisionStatus == v1beta1.ServiceInstanceDeprovisionStatusFailed,
			fmt.Sprintf("deprovisioning instance %q", name)), nil
	}
}

func waitBindingSettled(c *apiview.Client, ns, name string) wait.Check {
	return func(ctx context.Context) (wait.State, error) {
		b, err := c.Binding(ctx, ns, name)
		if err != nil {
			return wait.State{}, err
		}
		return bindingSettled(b), nil
	}
}

func waitBindingsGone(c *apiview.Client, ns string, names []string) wait.Check {
	return func(ctx context.Context) (wait.State, error) {
		for _, name := range names {
			b, err := c.Binding(ctx, ns, name)
			if isNotFound(err) {
				continue
			}
			if err != nil {
				return wait.State{}, err
			}
			st := deletionState(output.BindingCondition(b.Status),
				b.Status.UnbindStatus == v1beta1.ServiceBindingUnbindStatusFailed,
				fmt.Sprintf("unbinding %q", name))
			st.Condition = name + ": " + st.Condition
			return st, nil
		}
		return wait.State{Done: true}, nil
	}
}

func waitBrokerSettled(c *apiview.Client, scope apiview.Scope, ns, name string) wait.Check {
	return func(ctx context.Context) (wait.State, error) {
		b, err := findBroker(ctx, c, scope, ns, name)
		if err != nil {
			return wait.State{}, err
		}
		return brokerSettled(b), nil
	}
}

func waitBrokerGone(c *apiview.Client, scope apiview.Scope, ns, name string) wait.Check {
	return func(ctx context.Context) (wait.State, error) {
		b, err := findBroker(ctx, c, scope, ns, name)
		var nf *resolve.NotFoundError
		if errors.As(err, &nf) {
			return wait.State{Done: true}, nil
		}
		if err != nil {
			return wait.State{}, err
		}
		return wait.State{Condition: output.BrokerCondition(*b.Status).String()}, nil
	}
}

func isNotFound(err error) bool {
	var nf *apiview.NotFoundError
	return errors.As(err, &nf)
}
