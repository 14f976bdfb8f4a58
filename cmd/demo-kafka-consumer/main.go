// Command demo-kafka-consumer is the walkthrough's sample consumer; see
// internal/demo and docs/demo.md.
package main

import "github.com/svcat-io/svcat/internal/demo"

func main() { demo.Main("demo-kafka-consumer", demo.RunConsumer) }
