# svcat: see README.md for what each target is for.
SHELL := /usr/bin/env bash -o pipefail
GO ?= go
BIN := $(CURDIR)/bin

CONTROLLER_GEN_VERSION := v0.23.0
CONTROLLER_GEN := $(BIN)/controller-gen-$(CONTROLLER_GEN_VERSION)
ENVTEST_K8S_VERSION := v1.37.0
ENVTEST_ASSETS := $(BIN)/envtest/$(ENVTEST_K8S_VERSION)
export KUBEBUILDER_ASSETS := $(ENVTEST_ASSETS)
export ENVTEST_K8S_VERSION

# Integration tests share two cores with the API servers they start.
GO_TEST_FLAGS ?= -count=1 -timeout 30m

.PHONY: all build generate verify-generate fmt verify-fmt vet test test-unit test-faults envtest tools clean help

all: build

help: ## Show the targets.
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

build: ## Build every binary into bin/.
	@mkdir -p $(BIN)
	@if ls cmd/*/main.go >/dev/null 2>&1; then $(GO) build -o $(BIN)/ ./cmd/...; fi

$(CONTROLLER_GEN):
	@mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_GEN_VERSION)
	mv $(BIN)/controller-gen $(CONTROLLER_GEN)

tools: $(CONTROLLER_GEN) envtest ## Install the build tools into bin/.

generate: $(CONTROLLER_GEN) ## Generate deepcopy code, CRDs and RBAC.
	$(CONTROLLER_GEN) object paths=./api/...
	$(CONTROLLER_GEN) crd paths=./api/... output:crd:artifacts:config=config/crd/bases
	@if [ -d internal/controller ]; then \
	  $(CONTROLLER_GEN) rbac:roleName=svcat-catalog-controller paths=./internal/controller/... output:rbac:artifacts:config=config/rbac; \
	fi

verify-generate: generate ## Fail when generated files are not up to date.
	@if [ -n "$$(git status --porcelain -- api config)" ]; then \
	  echo "generated files are out of date; run 'make generate' and commit:"; \
	  git status --porcelain -- api config; git diff --stat -- api config; exit 1; \
	fi

fmt: ## Format the Go code.
	gofmt -w $$(git ls-files '*.go')

verify-fmt: ## Fail when Go code is not gofmt-formatted.
	@out="$$(gofmt -l $$(git ls-files --cached --others --exclude-standard '*.go'))"; \
	if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi

vet: ## Run go vet.
	$(GO) vet ./...

envtest: ## Build kube-apiserver and etcd for integration tests (cached).
	@ENVTEST_K8S_VERSION=$(ENVTEST_K8S_VERSION) hack/envtest.sh

test-unit: ## Run the tests that need no control plane.
	SVCAT_SKIP_ENVTEST=1 $(GO) test $(GO_TEST_FLAGS) ./...

# As root on Linux (CI) test/cluster runs on a real one-node cluster, whose
# binaries and images, and Helm, are built first; elsewhere, or with
# SVCAT_SKIP_CLUSTER=1, its tests skip and there is nothing to build.
CLUSTER_TEST_DEPS := $(if $(and $(filter Linux,$(shell uname -s)),$(filter 0,$(shell id -u)),$(if $(filter 1,$(SVCAT_SKIP_CLUSTER)),,yes)),cluster-binaries cluster-images helm)

test: verify-fmt vet verify-generate envtest $(CLUSTER_TEST_DEPS) ## Everything CI runs: gofmt, vet, generated files, unit, integration, end-to-end and packaging tests.
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || [ -n "$$SVCAT_CHROMIUM" ] || \
	  echo "make test: Chromium is not installed: svcat ui's browser test (internal/ui TestBrowserSeedFlow) is SKIPPED (fails under CI=true). Install it with: apt-get install -y chromium"
	$(GO) test $(GO_TEST_FLAGS) ./...
	$(MAKE) test-packaging

clean: ## Remove build outputs and the images of make images (keeps the cached envtest binaries).
	rm -f $(BIN)/catalog-controller $(BIN)/svcat $(BIN)/kafka-broker
	rm -rf $(BIN)/images

test-faults: envtest ## Full fault and load suite: 1,000 operations, 10 controller kills, 2 broker outages of 10s, 200 svcat processes, 20,000 unrelated Secrets (SVCAT_FAULT_SEED=N replays a run).
	SVCAT_FAULT_OPS=1000 SVCAT_FAULT_KILLS=10 SVCAT_FAULT_OUTAGES=2 SVCAT_FAULT_OUTAGE=10s \
	SVCAT_LOAD_CLIENTS=200 SVCAT_UNRELATED_OBJECTS=20000 SVCAT_KAFKA_FAULT_OPS=120 \
	  $(GO) test -count=1 -v -timeout 60m ./test/faults

# --- Install artifacts: Helm chart, kustomize tree, images (docs/install.md) ---

.PHONY: chart-sync test-packaging

chart-sync: ## Copy the generated CRDs and RBAC rules, and the admission policies, into charts/svcat (run after make generate).
	rm -f charts/svcat/crds/*.yaml
	cp config/crd/bases/*.yaml charts/svcat/crds/
	cp config/rbac/role.yaml charts/svcat/files/role.yaml
	mkdir -p charts/svcat/files/admission
	rm -f charts/svcat/files/admission/*.yaml
	for f in config/admission/*.yaml; do [ "$$(basename $$f)" = kustomization.yaml ] || cp $$f charts/svcat/files/admission/; done

# test/packaging is its own Go module (Helm and kustomize stay out of the main
# go.mod), so `go test ./...` at the root does not reach it.
test-packaging: envtest ## Render, lint and apply the chart and the kustomize tree against kube-apiserver.
	cd test/packaging && $(GO) vet ./... && $(GO) test $(GO_TEST_FLAGS) ./...

# The seed's walkthrough on this machine (docs/demo.md). Both targets build the
# control plane first when it is not cached (envtest prints its progress).
DEMO_CMDS := ./cmd/svcat ./cmd/svcat-sandbox ./cmd/demo-kafka-producer ./cmd/demo-kafka-consumer

.PHONY: demo sandbox demo-binaries

# The kubectl linked into svcat-sandbox reports the Kubernetes release of its
# k8s.io/kubectl module (v0.37.0 is Kubernetes v1.37.0), as a released
# kubectl does; without it, `svcat-sandbox kubectl version` says v0.0.0.
KUBECTL_GIT_VERSION = $(shell $(GO) list -m -f '{{.Version}}' k8s.io/kubectl | sed 's/^v0\./v1./')

demo-binaries: envtest
	@mkdir -p $(BIN)
	@echo "demo: building svcat, svcat-sandbox and the sample apps into bin/..."
	$(GO) build -ldflags "-X k8s.io/component-base/version.gitVersion=$(KUBECTL_GIT_VERSION)" -o $(BIN)/ $(DEMO_CMDS)

# Which kubectl the walkthrough runs: auto (kubectl from PATH, else kubectl's
# command tree in process), builtin (in process, even with kubectl on PATH),
# or a path to a kubectl program.
SANDBOX_KUBECTL ?= auto

demo: demo-binaries ## Run the seed's walkthrough end to end, check every step against the seed, clean up.
	$(BIN)/svcat-sandbox demo --kubectl $(SANDBOX_KUBECTL)

sandbox: demo-binaries ## Start the walkthrough's setup and keep it running until Ctrl-C; prints KUBECONFIG and commands to try.
	$(BIN)/svcat-sandbox sandbox --kubectl $(SANDBOX_KUBECTL)

# The Helm CLI, built from the Go module proxy (there is no other way to get
# it here) and cached in bin/ under its version. Several minutes the first
# time; the loop says it is still working.
HELM_VERSION := v4.3.2
HELM := $(BIN)/helm-$(HELM_VERSION)

.PHONY: helm demo-cluster

$(HELM):
	@mkdir -p $(BIN)/.helm-build
	@echo "helm: building helm $(HELM_VERSION) from the Go module proxy into $(HELM) (about 5 minutes the first time, then cached)..."
	@( s=0; while sleep 30; do s=$$((s+30)); echo "helm: still building ($${s}s)"; done ) & tick=$$!; \
	  GOBIN=$(BIN)/.helm-build $(GO) install helm.sh/helm/v4/cmd/helm@$(HELM_VERSION); rc=$$?; \
	  kill $$tick 2>/dev/null; exit $$rc
	mv $(BIN)/.helm-build/helm $(HELM)
	@rmdir $(BIN)/.helm-build
	@echo "helm: $(HELM)"

helm: $(HELM) ## Build the Helm CLI into bin/ (cached).

# The seed's walkthrough with everything in pods on the one-node cluster
# (docs/demo.md): images, cluster, helm install, the seed's steps, clean-up.
# It uses the cluster make cluster left running, or starts one and stops it.
demo-cluster: demo-binaries helm images cluster-binaries cluster-images ## Run the seed in pods on a real one-node cluster (root, Linux), installed with Helm; check every step, clean up.
	$(BIN)/svcat-sandbox demo-cluster --helm $(HELM)

FUZZTIME ?= 30s
# Each entry is package:FuzzName; `go test -fuzz` takes one target at a time.
FUZZ_TARGETS = ./internal/osb:FuzzDecodeResponse ./internal/osb:FuzzParseRetryAfter \
	./internal/controller/bindsecret:FuzzRender ./internal/controller/bindsecret:FuzzRenderJSONPath \
	./internal/controller/osbparams:FuzzBuild ./internal/ui:FuzzBuildForm

.PHONY: fuzz
fuzz: ## Fuzz broker answers, secret transforms and parameter merging, FUZZTIME each (default 30s; e.g. FUZZTIME=10m by hand). Plain go test runs the committed corpora.
	@set -e; for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; name=$${t##*:}; \
	  echo "== $$name ($$pkg, $(FUZZTIME))"; \
	  SVCAT_SKIP_ENVTEST=1 $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

BENCH_CONTROLLER_N ?= 100,1000
.PHONY: bench-controller
bench-controller: envtest ## Catalog-controller: N instances and bindings at once vs the plain-client floor (time, API writes, peak RSS); BENCH_CONTROLLER_N=100,1000.
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/catalog-controller ./cmd/catalog-controller
	$(GO) run ./test/bench/controller -controller $(BIN)/catalog-controller -n $(BENCH_CONTROLLER_N)

.PHONY: bench-hostile-catalog
bench-hostile-catalog: envtest ## Catalog-controller: peak RSS with 6 namespaced brokers serving 4 MiB hostile catalogs (docs/benchmarks.md, Hostile catalogs).
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/catalog-controller ./cmd/catalog-controller
	$(GO) run ./test/bench/hostilecatalog -controller $(BIN)/catalog-controller

# Container images. `make images` writes them without a container engine
# (hack/images with internal/ociimage): the binaries built as the
# Dockerfiles build them, one docker-archive per image under bin/images/,
# named $(IMAGE_REGISTRY)/<name>:$(IMAGE_TAG) (the pause image is
# localhost/svcat/pause:1). Load one with `docker load -i` or
# `ctr -n k8s.io images import`. IMAGE_TAG defaults to the chart's appVersion,
# the tag the chart and config/manager use when none is set.
# `make images-docker` builds the same images from build/<binary>/Dockerfile
# with an engine (docker with BuildKit, or podman); docs/install.md says how
# the two are held to one spec.
CONTAINER_TOOL ?= docker
IMAGE_REGISTRY ?= ghcr.io/svcat-io
IMAGE_TAG ?= $(shell sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$$/\1/p' charts/svcat/Chart.yaml)
IMAGE_VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
IMAGES ?= catalog-controller kafka-broker svcat demo-kafka-producer demo-kafka-consumer

.PHONY: images images-docker images-push

images: ## Write the container images without Docker into bin/images/<name>.tar (catalog-controller, kafka-broker, svcat, demo apps, pause).
	$(GO) run ./hack/images -out $(BIN)/images -registry $(IMAGE_REGISTRY) -tag $(IMAGE_TAG) -version $(IMAGE_VERSION)

images-docker: ## Build the same images from build/*/Dockerfile with docker or podman (CONTAINER_TOOL).
	@$(CONTAINER_TOOL) info >/dev/null 2>&1 || { \
	  echo "images-docker: no container engine answers '$(CONTAINER_TOOL) info'. Building from the Dockerfiles needs one"; \
	  echo "(docker with BuildKit, or CONTAINER_TOOL=podman); 'make images' writes the same images without one."; \
	  exit 1; }
	@for b in $(IMAGES); do \
	  echo "images-docker: building $(IMAGE_REGISTRY)/$$b:$(IMAGE_TAG)"; \
	  DOCKER_BUILDKIT=1 $(CONTAINER_TOOL) build -f build/$$b/Dockerfile --build-arg VERSION=$(IMAGE_VERSION) \
	    -t $(IMAGE_REGISTRY)/$$b:$(IMAGE_TAG) . || exit 1; \
	done

images-push: images-docker ## Push the images built by 'make images-docker'.
	@for b in $(IMAGES); do $(CONTAINER_TOOL) push $(IMAGE_REGISTRY)/$$b:$(IMAGE_TAG) || exit 1; done

.PHONY: docs
docs: ## Regenerate the generated parts of the docs (the catalog-controller flag reference in docs/install.md).
	$(GO) test -count=1 -run TestInstallDocsFlagReference ./internal/controllermanager -update

# --- The one-node Kubernetes cluster (docs/demo.md "A real one-node cluster") ---
# Linux and root only: it creates the interface svcat0, iptables rules and
# cgroups. The node binaries are built from source and cached under bin/ by
# version (hack/cluster-binaries.sh); containerd, runc, iptables and conntrack
# come from Debian and are installed when missing.

CNI_PLUGINS_VERSION := v1.10.0
COREDNS_VERSION := v1.15.0
CLUSTER_IMAGES := $(BIN)/images/pause.tar $(BIN)/images/coredns.tar
CLUSTER_CMD = $(GO) run ./cmd/svcat-sandbox cluster

.PHONY: cluster cluster-down cluster-status cluster-binaries cluster-images

cluster-binaries: envtest ## Build (cached) the node's binaries: kubelet, kube-proxy, controller-manager, scheduler, CNI plugins, CoreDNS; apt-install containerd, runc, iptables, conntrack when missing.
	@ENVTEST_K8S_VERSION=$(ENVTEST_K8S_VERSION) CNI_PLUGINS_VERSION=$(CNI_PLUGINS_VERSION) COREDNS_VERSION=$(COREDNS_VERSION) \
	  hack/cluster-binaries.sh packages cni coredns kube

cluster-images: $(CLUSTER_IMAGES) ## Write the cluster's pause and CoreDNS images into bin/images/.

$(BIN)/images/pause.tar: hack/pause/main.go
	@echo "cluster-images: writing the pause image (a few seconds)..."
	$(GO) run ./hack/images -out $(BIN)/images -only pause

$(BIN)/images/coredns.tar: $(BIN)/coredns/$(COREDNS_VERSION)/coredns
	@echo "cluster-images: writing the CoreDNS image (a few seconds)..."
	$(GO) run ./hack/images -binary $< -ref localhost/svcat/coredns:$(patsubst v%,%,$(COREDNS_VERSION)) -archive $@

$(BIN)/coredns/$(COREDNS_VERSION)/coredns:
	@COREDNS_VERSION=$(COREDNS_VERSION) hack/cluster-binaries.sh coredns

cluster: cluster-binaries cluster-images ## Start a one-node Kubernetes v1.37 cluster on this machine (Linux, root) and leave it running; prints a KUBECONFIG line.
	@echo "cluster: compiling svcat-sandbox (seconds when cached, a minute or two on a cold Go cache)..."
	$(CLUSTER_CMD) up

cluster-down: ## Tear the one-node cluster down, leaving nothing behind.
	$(CLUSTER_CMD) down

cluster-status: ## Show the one-node cluster's processes and KUBECONFIG.
	$(CLUSTER_CMD) status
