// Command demo-kafka-producer is the walkthrough's sample producer; see
// internal/demo and docs/demo.md.
package main

import "github.com/svcat-io/svcat/internal/demo"

func main() { demo.Main("demo-kafka-producer", demo.RunProducer) }
