package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"code.cloudfoundry.org/brokerapi/v13/domain"

	"github.com/svcat-io/svcat/internal/kafkabroker/catalog"
	"github.com/svcat-io/svcat/internal/kafkabroker/tenant"
)

// checkPredecessor checks what a bind's predecessor_binding_id can be
// checked against without records.
func checkPredecessor(plan *catalog.Plan, bindingID, predecessor string) error {
	switch {
	case predecessor == "":
		return nil
	case !plan.Rotatable():
		return badRequest("plan %s does not allow binding rotation (binding_rotatable is false); bind without predecessor_binding_id", plan.Name)
	case tenant.CheckID("binding", predecessor) != nil:
		return badRequest("predecessor_binding_id %s must be 1 to 100 letters, digits or '-'", quoteBounded(predecessor))
	case predecessor == bindingID:
		return badRequest("predecessor_binding_id names the binding being made; a rotation makes a new binding that names the old one")
	}
	return nil
}

// mayRotate decides whether a bind from pc for app may rotate pred: it
// must exist, and come from the same context and application. The
// instance's context was checked before, so this only keeps one
// application of a namespace from taking over another's binding.
func mayRotate(pred *bindingRecord, pc platformContext, app string) bool {
	if pred == nil || checkContext(pred.Context, pc, false) == contextDiffers {
		return false
	}
	return pred.AppGUID == "" || app == "" || pred.AppGUID == app
}

// bindingMetadata is a bind answer's metadata: expires_at, and
// renew_before at four fifths of the lifetime, so that a platform that
// renews then has a fifth of it left to make and roll out the new
// credentials.
func bindingMetadata(r *bindingRecord) domain.BindingMetadata {
	if r.ExpiresAt == nil {
		return domain.BindingMetadata{}
	}
	lifetime := r.ExpiresAt.Sub(r.Created)
	renew := r.ExpiresAt.Add(-lifetime / 5).Truncate(time.Second)
	return domain.BindingMetadata{
		ExpiresAt:   r.ExpiresAt.UTC().Format(time.RFC3339),
		RenewBefore: renew.UTC().Format(time.RFC3339),
	}
}

func bindingExpired(bindingID string, at time.Time) error {
	return failure(http.StatusConflict, "binding-expired",
		"binding %s exists but its credentials expired at %s; unbind it, then bind again or bind a new binding with predecessor_binding_id %s",
		bindingID, at.UTC().Format(time.RFC3339), bindingID)
}

func (b *Broker) startExpirySweep(every time.Duration) {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			ctx, cancel := context.WithTimeout(b.ctx, b.cfg.OperationTimeout)
			n, err := b.SweepExpired(ctx)
			cancel()
			switch {
			case err != nil && b.ctx.Err() == nil:
				b.log.Warn("removing expired binding users failed; the next sweep retries", slog.Int("removed", n), slog.Any("error", err))
			case n > 0:
				b.log.Info("removed the users of expired bindings", slog.Int("removed", n))
			}
			select {
			case <-b.ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// SweepExpired removes the Kafka users of bindings whose credentials have
// expired and marks their records revoked; the records stay until the
// platform unbinds. Kafka's SCRAM users have no expiry of their own, so
// without this an expired password would work for as long as the binding
// lives. A binding busy with another request is left for the next sweep.
// It returns how many users it removed.
func (b *Broker) SweepExpired(ctx context.Context) (int, error) {
	if err := b.cfg.Store.Sync(ctx); err != nil {
		return 0, err
	}
	now := b.cfg.Now()
	removed := 0
	var errs []error
	for key, raw := range b.cfg.Store.ListCached("binding/") {
		var r bindingRecord
		if json.Unmarshal(raw, &r) != nil || r.Revoked || !r.expired(now) {
			continue
		}
		release, err := b.lockBinding(r.InstanceID, r.ID)
		if err != nil {
			continue
		}
		err = b.revoke(ctx, key, &r)
		release()
		if err != nil {
			errs = append(errs, fmt.Errorf("binding %s of instance %s: %w", r.ID, r.InstanceID, err))
			continue
		}
		removed++
	}
	return removed, errors.Join(errs...)
}

// revoke removes an expired binding's user, then marks its record. A
// crash in between leaves an unmarked record, and the next sweep repeats
// both; removing a user that is gone is fine.
func (b *Broker) revoke(ctx context.Context, key string, r *bindingRecord) error {
	if err := b.cfg.Admin.DeleteUser(ctx, r.Username); err != nil {
		return err
	}
	// Another replica may have unbound it meanwhile: a record written
	// back now would bring it back.
	cur, err := b.getBinding(ctx, r.InstanceID, r.ID)
	if err != nil || cur == nil {
		return err
	}
	next := *cur
	next.Revoked = true
	if err := b.cfg.Store.Put(ctx, key, next); err != nil {
		return err
	}
	b.log.Info("removed the user of an expired binding", slog.String("instance", r.InstanceID), slog.String("binding", r.ID), slog.Time("expiredAt", *r.ExpiresAt))
	return nil
}
