// Package idclaim gives every OSB external ID one owner in the cluster.
//
// An external ID names an instance or binding at the broker, and any
// namespace may write one into spec.externalID. Without an owner, a tenant
// who read another namespace's ID (it shows in that tenant's Kafka user name)
// could create a copy in their own namespace and have the controller
// provision, bind and finally deprovision the victim's service. So before
// any broker call an object must hold the claim on its ID: a Lease in the
// controller's own namespace, where tenants have no rights, named from a hash
// of the ID. The API server creates an object atomically, so of two objects
// that claim one ID at once exactly one wins.
package idclaim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
)

// Kind is what an external ID names: instance and binding IDs are claimed
// separately (an instance and a binding may share an ID, as two bindings of
// different instances may not: v0.3 generated binding IDs cluster-unique).
type Kind string

const (
	Instance Kind = "instance"
	Binding  Kind = "binding"
)

// Labels and annotations of a claim. The owner and the ID are recorded so
// that a claim can be checked and its owner found without the hash.
const (
	LabelKind          = "servicecatalog.k8s.io/claim-kind"
	AnnotationOwner    = "servicecatalog.k8s.io/claim-owner"
	AnnotationExternal = "servicecatalog.k8s.io/external-id"
	// AnnotationUnanswered is the owner's generation whose request may have
	// reached the broker with no answer kept: the claim is written just
	// before the owner's first request, so a crash between that request
	// and the status write leaves it here. A 409 to a request of another
	// generation may then be the broker holding that earlier request's
	// instance, which is the owner's; a 409 to the recorded generation
	// itself is someone else's. Tenants cannot write it (the claims live in
	// the controller's namespace).
	AnnotationUnanswered = "servicecatalog.k8s.io/unanswered-generation"
)

// Owner is an object that wants an external ID.
type Owner struct {
	UID       types.UID
	Namespace string
	Name      string
	Created   metav1.Time
	// Generation is the owner's generation when it claims: recorded as
	// AnnotationUnanswered, since its first request follows at once.
	Generation int64
}

// Precedes orders rivals when no claim exists yet (objects stored by an
// older svcat, or v0.3's adopted as they are): the oldest first, then the
// lower UID. Neither can be chosen by whoever creates an object later.
func (o Owner) Precedes(p Owner) bool {
	if !o.Created.Equal(&p.Created) {
		return o.Created.Before(&p.Created)
	}
	return o.UID < p.UID
}

// Oldest returns whether me precedes every rival (me itself may be among
// them).
func Oldest(me Owner, rivals []Owner) bool {
	for _, r := range rivals {
		if r.UID != me.UID && r.Precedes(me) {
			return false
		}
	}
	return true
}

// OwnID tells whether externalID is the object's own UID, which is what the
// controller generates. Such an ID needs no claim: the API server gave the
// UID to this object alone, and nobody knew it before the object existed,
// so no object that is older, or created at the same moment, can carry it.
// A copy made later is younger and is refused by Acquire (Oldest) without a
// claim ever being written. This saves a Lease create and delete for every
// object whose ID nobody chose.
func OwnID(externalID string, uid types.UID) bool {
	return externalID != "" && externalID == string(uid)
}

// ownedByRival tells whether a rival's own UID is the ID (OwnID): that
// rival wins whatever the ages say, since creation times have one-second
// granularity and a copy made within the same second as the original must
// not win the tie by its UID.
func ownedByRival(externalID string, me types.UID, rivals []Owner) bool {
	for _, r := range rivals {
		if r.UID != me && OwnID(externalID, r.UID) {
			return true
		}
	}
	return false
}

// LeaseName is the claim's name for an ID: a hash, since IDs may hold any
// character and be longer than an object name.
func LeaseName(kind Kind, externalID string) string {
	sum := sha256.Sum256([]byte(externalID))
	return "svcat-" + string(kind) + "-" + hex.EncodeToString(sum[:])
}

// Claims takes and gives back claims.
type Claims struct {
	// Client writes the Leases and reads them, cached, in Namespace.
	Client client.Client
	// APIReader reads uncached: a Lease the cache has not seen yet, and the
	// owner a claim names (a cache behind a just-created owner would make a
	// live owner look gone).
	APIReader client.Reader
	// Namespace holds the claims: the controller's own, where tenants have
	// no rights.
	Namespace string
}

// ErrInUse is returned by Acquire when another live object owns the ID.
var ErrInUse = errors.New("the external ID is in use by another object")

// Acquire makes me the owner of the ID, or returns ErrInUse. rivals lists
// the other objects of the kind that carry the ID (from the cache); it is
// called only when no claim exists.
func (c *Claims) Acquire(ctx context.Context, kind Kind, externalID string, me Owner, rivals func() ([]Owner, error)) error {
	if OwnID(externalID, me.UID) {
		return nil
	}
	key := client.ObjectKey{Namespace: c.Namespace, Name: LeaseName(kind, externalID)}
	l := &coordinationv1.Lease{}
	err := c.Client.Get(ctx, key, l)
	if err == nil && holder(l) == me.UID {
		return nil // the common case: no request at all
	}
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	if apierrors.IsNotFound(err) {
		rs, err := rivals()
		if err != nil {
			return err
		}
		if !Oldest(me, rs) || ownedByRival(externalID, me.UID, rs) {
			return ErrInUse
		}
		err = c.Client.Create(ctx, newLease(key, kind, externalID, me))
		if err == nil {
			return nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return err
		}
	}
	// Someone else's, or one the cache has not seen: ask the API server.
	if err := c.APIReader.Get(ctx, key, l); err != nil {
		return err
	}
	if holder(l) == me.UID {
		return nil
	}
	if l.Annotations[AnnotationExternal] != externalID {
		return fmt.Errorf("claim %s/%s records another external ID than %q", key.Namespace, key.Name, externalID)
	}
	live, err := c.holderLive(ctx, kind, l, externalID)
	if err != nil || live {
		if err == nil {
			err = ErrInUse
		}
		return err
	}
	// The owner is gone (its finalizer removed before the claim was given
	// back, say): take the claim over. The update carries the
	// resourceVersion read, so of several takers exactly one wins; the
	// others get a conflict and find the new owner live on their retry.
	setOwner(l, me)
	return c.Client.Update(ctx, l)
}

// Release gives the claim back, when me holds it. Called after the owner's
// finalizer is removed: a release that fails then leaves a claim whose
// owner is gone, which the next object with the ID takes over.
func (c *Claims) Release(ctx context.Context, kind Kind, externalID string, me types.UID) error {
	if OwnID(externalID, me) {
		return nil
	}
	// The cache has the claim unless it was made moments ago: most
	// releases cost the delete alone.
	l, err := c.held(ctx, kind, externalID, me)
	if l == nil || err != nil {
		return err
	}
	// The preconditions keep a claim taken over since the read.
	err = c.Client.Delete(ctx, l, client.Preconditions{UID: &l.UID, ResourceVersion: &l.ResourceVersion})
	if apierrors.IsConflict(err) {
		// The cache was behind, or the claim was taken over: ask the API
		// server, and delete it if it is still ours. Nothing retries a
		// release once the owner is gone, so a stale read must not leave
		// the claim behind.
		if err := c.APIReader.Get(ctx, client.ObjectKeyFromObject(l), l); err != nil || holder(l) != me {
			return client.IgnoreNotFound(err)
		}
		err = c.Client.Delete(ctx, l, client.Preconditions{UID: &l.UID, ResourceVersion: &l.ResourceVersion})
	}
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	return err
}

// holderLive tells whether the object a claim names still exists with the
// UID and the ID it claimed. A deleted object whose finalizer is still on
// is live: it may yet deprovision.
func (c *Claims) holderLive(ctx context.Context, kind Kind, l *coordinationv1.Lease, externalID string) (bool, error) {
	ns, name, ok := cutOwner(l.Annotations[AnnotationOwner])
	if !ok {
		return false, nil
	}
	var obj client.Object
	var idOf func() string
	switch kind {
	case Instance:
		i := &scv1beta1.ServiceInstance{}
		obj, idOf = i, func() string { return i.Spec.ExternalID }
	default:
		b := &scv1beta1.ServiceBinding{}
		// A binding also holds the broker bindings its rotations made.
		obj, idOf = b, func() string {
			if slices.Contains(b.BrokerBindingIDs(), externalID) {
				return externalID
			}
			return b.Spec.ExternalID
		}
	}
	err := c.APIReader.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, obj)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return obj.GetUID() == holder(l) && idOf() == externalID, nil
}

func holder(l *coordinationv1.Lease) types.UID {
	if l.Spec.HolderIdentity == nil {
		return ""
	}
	return types.UID(*l.Spec.HolderIdentity)
}

func newLease(key client.ObjectKey, kind Kind, externalID string, me Owner) *coordinationv1.Lease {
	l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name,
		Labels:      map[string]string{scv1beta1.LabelManagedBy: scv1beta1.ManagedByValue, LabelKind: string(kind)},
		Annotations: map[string]string{AnnotationExternal: externalID}}}
	setOwner(l, me)
	return l
}

func setOwner(l *coordinationv1.Lease, me Owner) {
	id := string(me.UID)
	l.Spec.HolderIdentity = &id
	if l.Annotations == nil {
		l.Annotations = map[string]string{}
	}
	l.Annotations[AnnotationOwner] = me.Namespace + "/" + me.Name
	l.Annotations[AnnotationUnanswered] = strconv.FormatInt(me.Generation, 10)
}

// Unanswered returns the generation recorded as AnnotationUnanswered on
// me's claim, if me holds the claim and one is recorded.
func (c *Claims) Unanswered(ctx context.Context, kind Kind, externalID string, me types.UID) (int64, bool, error) {
	l, err := c.held(ctx, kind, externalID, me)
	if l == nil || err != nil {
		return 0, false, err
	}
	g, err := strconv.ParseInt(l.Annotations[AnnotationUnanswered], 10, 64)
	return g, err == nil, nil
}

// SetUnanswered records generation as AnnotationUnanswered on me's claim,
// or removes the record when generation is 0 (a 409 answered it). Either
// is rare: the claim's creation records the first request's generation.
func (c *Claims) SetUnanswered(ctx context.Context, kind Kind, externalID string, me types.UID, generation int64) error {
	l, err := c.held(ctx, kind, externalID, me)
	if l == nil || err != nil {
		return err
	}
	if generation == 0 {
		delete(l.Annotations, AnnotationUnanswered)
	} else {
		l.Annotations[AnnotationUnanswered] = strconv.FormatInt(generation, 10)
	}
	return c.Client.Update(ctx, l)
}

// held reads me's claim (the cache first, then the API server for one made
// moments ago); nil when me does not hold it.
func (c *Claims) held(ctx context.Context, kind Kind, externalID string, me types.UID) (*coordinationv1.Lease, error) {
	if OwnID(externalID, me) {
		return nil, nil // no claim needed, none written
	}
	key := client.ObjectKey{Namespace: c.Namespace, Name: LeaseName(kind, externalID)}
	l := &coordinationv1.Lease{}
	err := c.Client.Get(ctx, key, l)
	if apierrors.IsNotFound(err) {
		err = c.APIReader.Get(ctx, key, l)
	}
	if err != nil || holder(l) != me {
		return nil, client.IgnoreNotFound(err)
	}
	if l.Annotations == nil {
		l.Annotations = map[string]string{}
	}
	return l, nil
}

func cutOwner(s string) (ns, name string, ok bool) {
	ns, name, ok = strings.Cut(s, "/")
	return ns, name, ok && ns != "" && name != ""
}
