// Package packaging tests the install artifacts: the Helm chart in
// charts/svcat, the kustomize tree in config/default and the Dockerfiles.
// It is its own Go module so that Helm's and kustomize's dependencies never
// reach the main module; run it with `make test-packaging`.
package packaging
