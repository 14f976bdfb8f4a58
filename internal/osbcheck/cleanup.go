package osbcheck

import (
	"context"
	"fmt"
	"time"

	"github.com/svcat-io/svcat/internal/osb"
)

// deprovisionInstance removes an instance the check made and waits until it
// is gone; a 410 is success.
func (r *runner) deprovisionInstance(ctx context.Context, id, serviceID, planID string) error {
	resp, err := r.client.DeprovisionInstance(ctx, &osb.DeprovisionRequest{InstanceID: id, ServiceID: serviceID, PlanID: planID, AcceptsIncomplete: true})
	switch {
	case osb.IsGone(err):
		return nil
	case err != nil:
		return err
	case !resp.Async():
		return nil
	}
	return r.waitGone(ctx, func(ctx context.Context) (*osb.LastOperationResponse, error) {
		return r.client.PollLastOperation(ctx, &osb.LastOperationRequest{InstanceID: id, ServiceID: serviceID, PlanID: planID, Operation: resp.Operation})
	})
}

// unbind removes a binding the check made and waits until it is gone.
func (r *runner) unbind(ctx context.Context, instanceID, bindingID, serviceID, planID string) error {
	resp, err := r.client.Unbind(ctx, &osb.UnbindRequest{InstanceID: instanceID, BindingID: bindingID, ServiceID: serviceID, PlanID: planID, AcceptsIncomplete: true})
	switch {
	case osb.IsGone(err):
		return nil
	case err != nil:
		return err
	case !resp.Async():
		return nil
	}
	return r.waitGone(ctx, func(ctx context.Context) (*osb.LastOperationResponse, error) {
		return r.client.PollBindingLastOperation(ctx, &osb.BindingLastOperationRequest{InstanceID: instanceID, BindingID: bindingID,
			ServiceID: serviceID, PlanID: planID, Operation: resp.Operation})
	})
}

// waitGone polls a delete until it ends, as Retry-After asks, within
// PollTimeout.
func (r *runner) waitGone(ctx context.Context, poll func(context.Context) (*osb.LastOperationResponse, error)) error {
	deadline := time.Now().Add(r.cfg.PollTimeout)
	for {
		lo, err := poll(ctx)
		switch {
		case osb.IsGone(err):
			return nil
		case err != nil:
			return err
		case lo.State == osb.StateSucceeded:
			return nil
		case lo.State == osb.StateFailed:
			return fmt.Errorf("the delete failed: %s", truncate(lo.Description, 200))
		}
		wait := max(lo.RetryAfter, 100*time.Millisecond)
		if time.Now().Add(wait).After(deadline) {
			return fmt.Errorf("the delete is still in progress after %s", r.cfg.PollTimeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}
