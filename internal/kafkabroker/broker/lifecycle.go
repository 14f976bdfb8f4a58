package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"code.cloudfoundry.org/brokerapi/v13/domain"
	"code.cloudfoundry.org/brokerapi/v13/domain/apiresponses"

	"github.com/svcat-io/svcat/internal/kafkabroker/catalog"
	"github.com/svcat-io/svcat/internal/kafkabroker/tenant"
)

// noMaintenance reports a request without maintenance_info; some platforms
// send an empty object for none.
func noMaintenance(m *domain.MaintenanceInfo) bool {
	return m == nil || (m.Version == "" && m.Private == "" && len(m.Public) == 0)
}

// checkMaintenance holds a provision's or update's maintenance_info to the
// plan's (OSB: 422 MaintenanceInfoConflict when they differ). A request
// without one is fine: OSB lets the broker use the plan's current one.
func checkMaintenance(plan *catalog.Plan, requested *domain.MaintenanceInfo) error {
	if noMaintenance(requested) {
		return nil
	}
	if plan.MaintenanceInfo == nil {
		return apiresponses.ErrMaintenanceInfoNilConflict
	}
	if requested.Version != plan.MaintenanceInfo.Version {
		return apiresponses.NewFailureResponseBuilder(
			fmt.Errorf("maintenance_info.version %s does not match version %s of plan %s in the broker's catalog; read the catalog again and send its version",
				quoteBounded(requested.Version), plan.MaintenanceInfo.Version, plan.Name),
			http.StatusUnprocessableEntity, "maintenance-info-conflict",
		).WithErrorKey("MaintenanceInfoConflict").Build()
	}
	return nil
}

// quoteBounded quotes a value the requester sent, cut short so that an
// answer cannot be made arbitrarily large.
func quoteBounded(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return fmt.Sprintf("%q", s)
}

// sameVersion tells whether a repeated provision asks for the version the
// instance has; one that sends none asks for nothing in particular.
func sameVersion(have *catalog.MaintenanceInfo, requested *domain.MaintenanceInfo) bool {
	if noMaintenance(requested) {
		return true
	}
	return have != nil && have.Version == requested.Version
}

// ownerOnly admits a plan change or an upgrade only from the context the
// record names. Unlike adding topics, both rewrite the settings of the
// instance's existing topics (a smaller plan shortens their retention),
// so the leniency that updates get towards requests without a context and
// records without one (see Update) would let another tenant who knows the
// instance ID cut the owner's data.
func ownerOnly(id string, rec *instanceRecord, pc platformContext) error {
	switch {
	case pc.none():
		return badRequest("a plan change or maintenance upgrade of instance %s needs the request's context: it changes the settings of the instance's topics, and only the context tells the instance's owner from another tenant", id)
	case rec.Context == nil:
		return failure(http.StatusConflict, "instance-context-unknown",
			"instance %s was made by an older broker, which did not record its platform context, so it cannot change plans or be upgraded yet; a bind from the namespace that owns it records the context, and then the update is accepted", id)
	}
	return nil // a context other than the record's was refused before
}

// planFit says why an instance's topics do not fit a plan: the limits it
// breaks and by how many topics, and nothing else (the answer may go to a
// requester without a context, so it names no topic). Empty: they fit.
func planFit(topics []catalog.TopicSpec, plan *catalog.Plan) string {
	l := plan.Limits
	var why []string
	if len(topics) > l.MaxTopics {
		why = append(why, fmt.Sprintf("plan %s allows %d topics and the instance would have %d", plan.Name, l.MaxTopics, len(topics)))
	}
	var partitions, retention int
	for _, t := range topics {
		if t.Partitions > int32(l.MaxPartitions) {
			partitions++
		}
		if t.RetentionHours > l.MaxRetentionHours {
			retention++
		}
	}
	if partitions > 0 {
		why = append(why, fmt.Sprintf("plan %s allows %d partitions per topic and %d of the instance's topics have more", plan.Name, l.MaxPartitions, partitions))
	}
	if retention > 0 {
		why = append(why, fmt.Sprintf("plan %s allows %d hours of retention and %d of the instance's topics keep records longer", plan.Name, l.MaxRetentionHours, retention))
	}
	return strings.Join(why, "; ")
}

// newTopics checks an update's topics against the instance's and returns
// those to add. Listed topics that exist must keep their settings.
func newTopics(have, listed []catalog.TopicSpec, l catalog.Limits) ([]catalog.TopicSpec, error) {
	byName := map[string]catalog.TopicSpec{}
	for _, t := range have {
		byName[tenant.Normalise(t.Name)] = t
	}
	var add []catalog.TopicSpec
	for i, t := range listed {
		old, exists := byName[tenant.Normalise(t.Name)]
		switch {
		case !exists:
			add = append(add, t)
		case old.Name != t.Name:
			// The stored name stays out of the answer: an update may
			// come without a context, and its answers must not read
			// out the instance's topics to whoever sends one.
			return nil, badRequest("parameters.topics[%d].name: topic %q clashes with an existing topic of the instance whose name differs only in '.' and '_' (Kafka treats them alike); use the existing name or another one", i, t.Name)
		case withDefaults(old, l) != withDefaults(t, l):
			return nil, badRequest("parameters.topics[%d]: topic %q exists with other settings; changing partitions or retention is not supported", i, t.Name)
		}
	}
	return add, nil
}

// Update is PATCH /v2/service_instances/{instance_id}. It adds topics
// (parameters), changes the plan (plan_id) and applies the plan's
// maintenance version (maintenance_info), in any combination. Listed
// topics that exist must keep their settings, and topics left out are
// kept. A refused or failed update leaves the instance as it was.
func (b *Broker) Update(ctx context.Context, id string, d domain.UpdateDetails, _ bool) (spec domain.UpdateServiceSpec, err error) {
	defer b.answer(&err, "update", id)
	pc, err := requestContext(d.RawContext, "")
	if err != nil {
		return spec, badRequest("%v", err)
	}
	release, ok := b.locks.try(id, true)
	if !ok {
		return spec, concurrencyError(id)
	}
	defer release()
	ctx, cancel := b.opContext(ctx)
	defer cancel()
	rec, err := b.getInstance(ctx, id)
	if err != nil {
		return spec, err
	}
	if rec == nil {
		return spec, failure(http.StatusNotFound, "instance-not-found", "instance %s does not exist", id)
	}
	// OSB makes an update's context optional: one without a context makes
	// no claim and is checked like the requests that carry none
	// (deprovision, polls). An update of a legacy record (no stored
	// context) is accepted without claiming it: it carries no app GUID to
	// check against the record's bindings (legacyBindRefused), and it
	// cannot remove topics nor hand out credentials.
	if !pc.none() && rec.Context != nil && checkContext(rec.Context, pc, false) == contextDiffers {
		return spec, instanceOtherContext(id)
	}
	if rec.State != stateReady {
		return spec, concurrencyError(id)
	}
	// An ID the catalog does not know is a malformed request (400), not a
	// plan change the broker declines (422), which would send the user
	// looking for a migration path that cannot exist.
	if d.ServiceID != rec.ServiceID {
		return spec, badRequest("service_id %q is not the service of instance %s", d.ServiceID, id)
	}
	target := rec.PlanID
	if d.PlanID != "" {
		target = d.PlanID
	}
	plan, err := b.plan(rec.ServiceID, target)
	if err != nil {
		return spec, err
	}
	oldPlan, err := b.plan(rec.ServiceID, rec.PlanID)
	if err != nil {
		return spec, err
	}
	planChange := target != rec.PlanID
	if svc, _ := b.cfg.Catalog.PlanService(target); planChange && !svc.Updateable() {
		return spec, apiresponses.ErrPlanChangeNotSupported
	}
	if err := checkMaintenance(plan, d.MaintenanceInfo); err != nil {
		return spec, err
	}
	upgrade := !noMaintenance(d.MaintenanceInfo)
	if planChange || upgrade {
		if err := ownerOnly(id, rec, pc); err != nil {
			return spec, err
		}
	}
	params, err := b.cfg.Catalog.InstanceParams(target, d.RawParameters)
	if err != nil {
		return spec, paramError(err)
	}
	add, err := newTopics(rec.Topics, params.Topics, plan.Limits)
	if err != nil {
		return spec, err
	}
	all := append(append([]catalog.TopicSpec(nil), rec.Topics...), add...)
	if planChange {
		if why := planFit(all, plan); why != "" {
			return spec, failure(http.StatusUnprocessableEntity, "plan-change-refused",
				"instance %s cannot change from plan %s to plan %s: %s; the instance keeps plan %s", id, oldPlan.Name, plan.Name, why, oldPlan.Name)
		}
	} else if n := len(all); n > plan.Limits.MaxTopics {
		return spec, badRequest("parameters.topics: the instance would have %d topics; plan %s allows %d", n, plan.Name, plan.Limits.MaxTopics)
	}
	if !planChange && !upgrade && len(add) == 0 {
		return spec, nil
	}

	next := *rec
	next.PlanID, next.Topics, next.Updated = target, all, time.Now().UTC()
	if upgrade {
		next.Maintenance, next.TopicConfig = plan.MaintenanceInfo, plan.TopicConfig
	}
	if next.Parameters, err = json.Marshal(catalog.InstanceParams{Topics: next.Topics}); err != nil {
		return spec, err
	}
	if err := b.applyUpdate(ctx, rec, &next, oldPlan, plan, add, planChange || upgrade); err != nil {
		return spec, fmt.Errorf("updating instance %s: %w", id, err)
	}
	b.log.Info("updated", slog.String("instance", id), slog.String("plan", plan.Name),
		slog.Bool("planChanged", planChange), slog.Bool("upgraded", upgrade), slog.Int("topicsAdded", len(add)))
	return spec, nil
}

// applyUpdate makes the Kafka side of an update, then writes its record.
// Kafka goes first so that a record always describes what Kafka has: a
// crash in between leaves the old record, and the platform's retry does
// it all again (creating and setting configs are idempotent). A failure
// takes back what was done.
func (b *Broker) applyUpdate(ctx context.Context, rec, next *instanceRecord, oldPlan, plan *catalog.Plan, add []catalog.TopicSpec, alter bool) error {
	created := tenant.TopicsFor(rec.Prefix, add, plan.Limits, next.TopicConfig)
	undo := func(err error, altered bool) error {
		if rerr := b.cfg.Admin.DeleteTopics(ctx, topicNames(created)); rerr != nil {
			err = errors.Join(err, fmt.Errorf("rolling back topics: %w", rerr))
		}
		if altered {
			old := tenant.TopicsFor(rec.Prefix, rec.Topics, oldPlan.Limits, rec.TopicConfig)
			if rerr := b.cfg.Admin.AlterTopics(ctx, old, slices.Collect(maps.Keys(next.TopicConfig))); rerr != nil {
				err = errors.Join(err, fmt.Errorf("rolling back topic configs: %w", rerr))
			}
		}
		return err
	}
	if err := b.cfg.Admin.CreateTopics(ctx, created); err != nil {
		return err
	}
	if alter {
		existing := tenant.TopicsFor(rec.Prefix, rec.Topics, plan.Limits, next.TopicConfig)
		if err := b.cfg.Admin.AlterTopics(ctx, existing, slices.Collect(maps.Keys(rec.TopicConfig))); err != nil {
			return undo(err, true)
		}
	}
	if err := b.cfg.Store.Put(ctx, instanceKey(rec.ID), next); err != nil {
		return undo(err, alter)
	}
	return nil
}
