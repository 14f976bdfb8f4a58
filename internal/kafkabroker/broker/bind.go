package broker

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"code.cloudfoundry.org/brokerapi/v13/domain"
	"code.cloudfoundry.org/brokerapi/v13/domain/apiresponses"

	"github.com/svcat-io/svcat/internal/kafkabroker/tenant"
)

// lockBinding takes the instance lock shared (bindings of one instance may
// be made side by side, but not while the instance is provisioned, updated
// or deleted) and the binding's own lock exclusively.
func (b *Broker) lockBinding(instanceID, bindingID string) (func(), error) {
	releaseInstance, ok := b.locks.try(instanceID, false)
	if !ok {
		return nil, concurrencyError(instanceID)
	}
	releaseBinding, ok := b.locks.try(instanceID+"/"+bindingID, true)
	if !ok {
		releaseInstance()
		return nil, apiresponses.NewFailureResponseBuilder(
			fmt.Errorf("another operation on binding %s is in progress; retry later", bindingID),
			http.StatusUnprocessableEntity, "concurrent-operation",
		).WithErrorKey("ConcurrencyError").Build()
	}
	return func() { releaseBinding(); releaseInstance() }, nil
}

// readyInstance loads the instance a binding request from pc names. The
// context is checked before the state: a busy instance must look to
// another context exactly as a ready one does.
func (b *Broker) readyInstance(ctx context.Context, instanceID string, pc platformContext) (*instanceRecord, contextVerdict, error) {
	inst, err := b.getInstance(ctx, instanceID)
	if err != nil {
		return nil, 0, err
	}
	if inst == nil {
		return nil, 0, failure(http.StatusNotFound, "instance-not-found", "instance %s does not exist", instanceID)
	}
	verdict := checkContext(inst.Context, pc, false)
	if verdict == contextDiffers {
		return nil, 0, instanceOtherContext(instanceID)
	}
	if inst.State != stateReady {
		return nil, 0, concurrencyError(instanceID)
	}
	return inst, verdict, nil
}

// Bind is PUT /v2/service_instances/{instance_id}/service_bindings/{binding_id}:
// a new SCRAM user with ACLs on the instance's prefix.
func (b *Broker) Bind(ctx context.Context, instanceID, bindingID string, d domain.BindDetails, _ bool) (out domain.Binding, err error) {
	defer b.answer(&err, "bind", instanceID)
	if err := tenant.CheckID("instance", instanceID); err != nil {
		return out, badRequest("%v", err)
	}
	if err := tenant.CheckID("binding", bindingID); err != nil {
		return out, badRequest("%v", err)
	}
	plan, err := b.plan(d.ServiceID, d.PlanID)
	if err != nil {
		return out, err
	}
	if err := b.cfg.Catalog.BindingParams(d.PlanID, d.RawParameters); err != nil {
		return out, paramError(err)
	}
	pc, err := requestContext(d.RawContext, "")
	if err != nil {
		return out, badRequest("%v", err)
	}
	owner, shared, err := b.bindOwner(d.RawContext, pc, d.ServiceID)
	if err != nil {
		return out, err
	}
	predecessor := predecessorFrom(ctx)
	if err := checkPredecessor(plan, bindingID, predecessor); err != nil {
		return out, err
	}
	release, err := b.lockBinding(instanceID, bindingID)
	if err != nil {
		return out, err
	}
	defer release()
	ctx, cancel := b.opContext(ctx)
	defer cancel()

	// Salting the password (PBKDF2) is a bind's biggest cost and needs
	// nothing from Kafka, so it runs while the records are read and the
	// new one is written. A bind that turns out to be a repeat or is
	// refused wastes it.
	password := randomToken(32)
	salted := make(chan saltResult, 1)
	go func() {
		cred, err := tenant.Salt(password)
		salted <- saltResult{cred, err}
	}()

	inst, verdict, err := b.readyInstance(ctx, instanceID, owner)
	if err != nil {
		return out, err
	}
	if inst.ServiceID != d.ServiceID || inst.PlanID != d.PlanID {
		return out, wrongPlan(instanceID, d.ServiceID, d.PlanID)
	}
	existing, err := b.cachedBinding(instanceID, bindingID) // readyInstance just synced
	if err != nil {
		return out, err
	}
	if existing != nil && (checkContext(existing.Context, pc, false) == contextDiffers ||
		existing.AppGUID != appGUID(d) || !sameJSON(existing.Parameters, d.RawParameters) ||
		existing.Predecessor != predecessor) {
		return out, bindingConflict(bindingID)
	}
	if verdict == contextClaims {
		// Only the owner's own bind claims a legacy instance.
		if shared || legacyBindRefused(pc, appGUID(d), b.appGUIDs(instanceID)) {
			return out, legacyBindConflict(instanceID)
		}
		if err := b.claim(ctx, inst, pc); err != nil {
			return out, err
		}
	}
	if existing != nil {
		// Healing must not bring back credentials that ran out.
		if existing.expired(b.cfg.Now()) {
			return out, bindingExpired(bindingID, *existing.ExpiresAt)
		}
		if err := b.ensureUser(ctx, existing, inst.Prefix); err != nil {
			return out, fmt.Errorf("binding %s: %w", bindingID, err)
		}
		return domain.Binding{AlreadyExists: true, Credentials: b.credentials(inst, existing), Metadata: bindingMetadata(existing)}, nil
	}
	if predecessor != "" {
		// readyInstance just synced. The predecessor is looked up under
		// this instance only, and every way it can fail gets the same
		// answer, so the answer says nothing of other instances' or
		// other contexts' bindings.
		pred, err := b.cachedBinding(instanceID, predecessor)
		if err != nil {
			return out, err
		}
		if !mayRotate(pred, pc, appGUID(d)) {
			return out, badRequest("predecessor_binding_id %s names no binding of instance %s that this request may rotate; bind without it for new credentials", quoteBounded(predecessor), instanceID)
		}
	}

	now := b.cfg.Now().UTC()
	rec := bindingRecord{
		ID: bindingID, InstanceID: instanceID, ServiceID: d.ServiceID, PlanID: d.PlanID,
		Username:    b.cfg.Names.User(instanceID, bindingID),
		Password:    password,
		AppGUID:     appGUID(d),
		Parameters:  d.RawParameters,
		Context:     &pc,
		Created:     now,
		Predecessor: predecessor,
	}
	if lifetime := plan.CredentialLifetime(); lifetime > 0 {
		expires := now.Add(lifetime).Truncate(time.Second)
		rec.ExpiresAt = &expires
	}
	key := bindingKey(instanceID, bindingID)
	err = alongside(
		func() error {
			s := <-salted
			if s.err != nil {
				return s.err
			}
			return b.cfg.Admin.CreateUser(ctx, rec.Username, s.cred, inst.Prefix)
		},
		func() error { return b.cfg.Store.Put(ctx, key, rec) },
		func() error { return b.cfg.Admin.DeleteUser(ctx, rec.Username) },
		func() error { return b.cfg.Store.Delete(ctx, key) },
	)
	if err != nil {
		return out, fmt.Errorf("binding %s: %w", bindingID, err)
	}
	b.log.Info("bound", slog.String("instance", instanceID), slog.String("binding", bindingID), slog.String("user", rec.Username), slog.String("predecessor", predecessor))
	return domain.Binding{Credentials: b.credentials(inst, &rec), Metadata: bindingMetadata(&rec)}, nil
}

// appGUIDs lists the app GUIDs of the instance's bindings, from the view
// of the last sync.
func (b *Broker) appGUIDs(instanceID string) []string {
	var out []string
	for _, raw := range b.cfg.Store.ListCached(bindingsPrefix(instanceID)) {
		var r bindingRecord
		if json.Unmarshal(raw, &r) == nil {
			out = append(out, r.AppGUID)
		}
	}
	return out
}

// ensureUser makes sure a repeated bind's credentials work. Its record was
// written alongside the user, so a crash may have left the record without
// the user or its ACLs.
func (b *Broker) ensureUser(ctx context.Context, rec *bindingRecord, prefix string) error {
	ok, err := b.cfg.Admin.HasUser(ctx, rec.Username)
	if err != nil || ok {
		if err == nil {
			err = b.cfg.Admin.Grant(ctx, rec.Username, prefix)
		}
		return err
	}
	cred, err := tenant.Salt(rec.Password)
	if err != nil {
		return err
	}
	return b.cfg.Admin.CreateUser(ctx, rec.Username, cred, prefix)
}

type saltResult struct {
	cred tenant.Credential
	err  error
}

// GetBinding is GET …/service_bindings/{binding_id}.
func (b *Broker) GetBinding(ctx context.Context, instanceID, bindingID string, _ domain.FetchBindingDetails) (spec domain.GetBindingSpec, err error) {
	defer b.answer(&err, "GET binding", instanceID)
	inst, err := b.getInstance(ctx, instanceID)
	if err != nil {
		return spec, err
	}
	rec, err := b.cachedBinding(instanceID, bindingID)
	if err != nil {
		return spec, err
	}
	if inst == nil || rec == nil {
		return spec, apiresponses.ErrBindingNotFound
	}
	params, err := decodeParams(rec.Parameters)
	if err != nil {
		return spec, err
	}
	return domain.GetBindingSpec{Credentials: b.credentials(inst, rec), Parameters: params, Metadata: bindingMetadata(rec)}, nil
}

// Unbind is DELETE …/service_bindings/{binding_id}: the user's ACLs and
// credentials go, so the old credentials stop working at once.
func (b *Broker) Unbind(ctx context.Context, instanceID, bindingID string, _ domain.UnbindDetails, _ bool) (spec domain.UnbindSpec, err error) {
	defer b.answer(&err, "unbind", instanceID)
	if tenant.CheckID("instance", instanceID) != nil || tenant.CheckID("binding", bindingID) != nil {
		return spec, apiresponses.ErrBindingDoesNotExist
	}
	release, err := b.lockBinding(instanceID, bindingID)
	if err != nil {
		return spec, err
	}
	defer release()
	ctx, cancel := b.opContext(ctx)
	defer cancel()
	// The user name follows from the IDs, so revoking it need not wait for
	// the record. Without a record the user can only be left over from a
	// bind that crashed, and removing it is right then too.
	user := b.cfg.Names.User(instanceID, bindingID)
	revoked := make(chan error, 1)
	go func() { revoked <- b.cfg.Admin.DeleteUser(ctx, user) }()
	// A record the view already has is enough without catching up: it only
	// says what to delete, and deleting what the IDs name is right even if
	// another replica did it meanwhile (the answer is then 200, not 410).
	// Only a miss needs the topic, for a binding made on another replica.
	rec, err := b.cachedBinding(instanceID, bindingID)
	if err == nil && rec == nil {
		rec, err = b.getBinding(ctx, instanceID, bindingID)
	}
	if err != nil || rec == nil {
		rerr := <-revoked
		switch {
		case err != nil:
			return spec, err
		case rerr != nil: // the user may be a crashed unbind's: let the platform retry
			return spec, fmt.Errorf("unbinding %s: %w", bindingID, rerr)
		}
		return spec, apiresponses.ErrBindingDoesNotExist
	}
	key := bindingKey(instanceID, bindingID)
	if rec.Username != user { // made under another --topic-prefix-base
		<-revoked
		if err := b.cfg.Admin.DeleteUser(ctx, rec.Username); err != nil {
			return spec, fmt.Errorf("unbinding %s: %w", bindingID, err)
		}
		err = b.cfg.Store.Delete(ctx, key)
	} else {
		// The record goes while the user is being deleted. If that fails,
		// the platform's retry finds no record but deletes the user all
		// the same, and answers 410 only once it is gone.
		err = alongside(
			func() error { return <-revoked },
			func() error { return b.cfg.Store.Delete(ctx, key) },
			nil, nil,
		)
	}
	if err != nil {
		return spec, fmt.Errorf("unbinding %s: %w", bindingID, err)
	}
	b.log.Info("unbound", slog.String("instance", instanceID), slog.String("binding", bindingID))
	return spec, nil
}

// LastBindingOperation is GET …/service_bindings/{binding_id}/last_operation.
// Bindings are made synchronously, so a binding that exists has succeeded.
func (b *Broker) LastBindingOperation(ctx context.Context, instanceID, bindingID string, _ domain.PollDetails) (_ domain.LastOperation, err error) {
	defer b.answer(&err, "binding last_operation", instanceID)
	rec, err := b.getBinding(ctx, instanceID, bindingID)
	if err != nil {
		return domain.LastOperation{}, err
	}
	if rec == nil {
		return domain.LastOperation{}, b.goneOrNotFound(bindingKey(instanceID, bindingID), "binding "+bindingID, apiresponses.ErrBindingDoesNotExist)
	}
	return domain.LastOperation{State: domain.Succeeded}, nil
}

// appGUID is the application a binding is for; a repeated bind for another
// application is a different request.
func appGUID(d domain.BindDetails) string {
	if d.BindResource != nil && d.BindResource.AppGuid != "" {
		return d.BindResource.AppGuid
	}
	return d.AppGUID
}
