package brokerurl

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The API server's own Service: its ClusterIPs and the EndpointSlices that
// list where the API server instances listen.
const (
	apiServerServiceNamespace = "default"
	apiServerServiceName      = "kubernetes"
)

// DefaultAPIServerAddressesInterval is how often the API server's addresses
// are read again. They change when a control plane node is replaced; a
// broker URL naming a new address within that window is still caught by
// the kubeconfig host and the loopback rules, not by the endpoint rule.
const DefaultAPIServerAddressesInterval = 10 * time.Second

// APIServerAddresses reads where the API server answers, for the broker URL
// policy: the `kubernetes` Service in namespace default (its ClusterIPs) and
// its EndpointSlices (the address and port of every API server instance),
// plus this machine's interface addresses. Reading them periodically, with
// two requests, costs less than a cache of every EndpointSlice of the
// cluster would.
type APIServerAddresses struct {
	// Reader reads the Service and the EndpointSlices (uncached).
	Reader client.Reader
	// Interval between reads; default DefaultAPIServerAddressesInterval.
	Interval time.Duration
	// LocalAddrs returns this machine's addresses; default
	// net.InterfaceAddrs.
	LocalAddrs func() ([]net.Addr, error)
	Log        logr.Logger

	last atomic.Pointer[APIServerEndpoints]
}

// +kubebuilder:rbac:groups="",resources=services,verbs=get,resourceNames=kubernetes
// +kubebuilder:rbac:groups=discovery.k8s.io,resources=endpointslices,verbs=list

// Refresh reads the addresses once. The last addresses read stay in use
// when it fails.
func (a *APIServerAddresses) Refresh(ctx context.Context) error {
	svc := &corev1.Service{}
	err := a.Reader.Get(ctx, client.ObjectKey{Namespace: apiServerServiceNamespace, Name: apiServerServiceName}, svc)
	if apierrors.IsNotFound(err) {
		// The API server creates it shortly after it starts.
		svc, err = nil, nil
	}
	if err != nil {
		return fmt.Errorf("reading Service %s/%s for the broker URL policy: %w", apiServerServiceNamespace, apiServerServiceName, err)
	}
	slices := &discoveryv1.EndpointSliceList{}
	if err := a.Reader.List(ctx, slices, client.InNamespace(apiServerServiceNamespace),
		client.MatchingLabels{discoveryv1.LabelServiceName: apiServerServiceName}); err != nil {
		return fmt.Errorf("reading the EndpointSlices of Service %s/%s for the broker URL policy: %w", apiServerServiceNamespace, apiServerServiceName, err)
	}
	local, err := a.localAddrs()
	if err != nil {
		return fmt.Errorf("reading this machine's addresses for the broker URL policy: %w", err)
	}
	e := apiServerEndpoints(svc, slices.Items, local)
	a.last.Store(&e)
	return nil
}

// Get returns the addresses last read; nothing before the first Refresh.
func (a *APIServerAddresses) Get() APIServerEndpoints {
	if e := a.last.Load(); e != nil {
		return *e
	}
	return APIServerEndpoints{}
}

// Start refreshes the addresses every Interval until ctx ends; a failed
// read is logged and retried at the next tick. It is a manager Runnable.
func (a *APIServerAddresses) Start(ctx context.Context) error {
	interval := a.Interval
	if interval <= 0 {
		interval = DefaultAPIServerAddressesInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := a.Refresh(ctx); err != nil && ctx.Err() == nil {
				a.Log.Error(err, "keeping the API server addresses read before")
			}
		}
	}
}

// NeedLeaderElection is false: every replica keeps its policy current, so a
// new leader starts with it.
func (a *APIServerAddresses) NeedLeaderElection() bool { return false }

func (a *APIServerAddresses) localAddrs() ([]netip.Addr, error) {
	f := a.LocalAddrs
	if f == nil {
		f = net.InterfaceAddrs
	}
	addrs, err := f()
	if err != nil {
		return nil, err
	}
	out := make([]netip.Addr, 0, len(addrs))
	for _, na := range addrs {
		if p, err := netip.ParsePrefix(na.String()); err == nil {
			out = append(out, p.Addr())
		} else if ip, err := netip.ParseAddr(na.String()); err == nil {
			out = append(out, ip)
		}
	}
	return out, nil
}

// apiServerEndpoints turns the Service and its EndpointSlices into what the
// policy compares. svc may be nil.
func apiServerEndpoints(svc *corev1.Service, slices []discoveryv1.EndpointSlice, local []netip.Addr) APIServerEndpoints {
	e := APIServerEndpoints{Local: local}
	if svc != nil {
		ips := append([]string{svc.Spec.ClusterIP}, svc.Spec.ClusterIPs...)
		ips = append(ips, svc.Spec.ExternalIPs...)
		for _, ip := range ips {
			if a, err := netip.ParseAddr(ip); err == nil {
				e.Addrs = append(e.Addrs, a)
			}
		}
	}
	for _, s := range slices {
		var ports []uint16
		for _, p := range s.Ports {
			if p.Port != nil && *p.Port > 0 && *p.Port < 1<<16 {
				ports = append(ports, uint16(*p.Port))
			}
		}
		for _, ep := range s.Endpoints {
			for _, addr := range ep.Addresses {
				a, err := netip.ParseAddr(addr)
				if err != nil {
					continue
				}
				if len(ports) == 0 {
					// No ports means any port.
					e.Addrs = append(e.Addrs, a)
				}
				for _, p := range ports {
					e.AddrPorts = append(e.AddrPorts, netip.AddrPortFrom(a, p))
				}
			}
		}
	}
	return e
}
