// Package catalogspec turns a broker's OSB catalog into the specs of the class
// and plan objects the controller keeps in the cluster: names, fields,
// lookup labels and catalog restrictions. It does no I/O.
package catalogspec
