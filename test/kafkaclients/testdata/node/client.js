// One Kafka action with kafkajs, configured from a binding Secret's keys
// (passed as environment variables). Prints "OK <detail>" or
// "ERROR <error name>: <message>"; the Go test reads that line.
'use strict';
const fs = require('fs');
const { Kafka, logLevel } = require('kafkajs');

const env = (k) => process.env[k] || '';
const kafka = new Kafka({
  clientId: 'svcat-kafkaclients',
  brokers: env('KAFKA_BROKERS').split(','),
  ssl: { ca: [fs.readFileSync(env('KAFKA_CA_FILE'), 'utf8')] },
  // The Secret's sasl.mechanism (SCRAM-SHA-512) in kafkajs's spelling.
  sasl: { mechanism: env('KAFKA_SASL_MECHANISM').toLowerCase(), username: env('KAFKA_USERNAME'), password: env('KAFKA_PASSWORD') },
  connectionTimeout: 5000,
  retry: { retries: 1, initialRetryTime: 100 },
  // kafkajs tells some refusals only in its log (a FindCoordinator refused
  // for the group ends as "Failed to find group coordinator"): print the
  // entries that carry a broker error, to stderr.
  logLevel: logLevel.DEBUG,
  logCreator: () => ({ label, log }) => {
    if (log.error) console.error(`${label} ${log.message}: ${log.error}`);
  },
});

async function produce() {
  const p = kafka.producer({ allowAutoTopicCreation: false });
  await p.connect();
  try {
    await p.send({ topic: env('TOPIC'), messages: [{ value: env('MESSAGE') }] });
    return 'produced';
  } finally {
    await p.disconnect();
  }
}

async function consume() {
  const c = kafka.consumer({ groupId: env('GROUP'), retry: { retries: 0 } });
  await c.connect();
  try {
    await c.subscribe({ topics: [env('TOPIC')], fromBeginning: true });
    const got = await new Promise((resolve, reject) => {
      c.on(c.events.CRASH, (e) => reject(e.payload.error));
      c.run({
        eachMessage: async ({ message }) => {
          if (message.value.toString() === env('MESSAGE')) resolve(message.value.toString());
        },
      }).catch(reject);
    });
    return 'consumed ' + got;
  } finally {
    await c.disconnect();
  }
}

const actions = { produce, consume };
actions[env('ACTION')]()
  .then((detail) => { console.log('OK ' + detail); process.exit(0); })
  .catch((e) => {
    // kafkajs wraps the broker's error (a retried FindCoordinator's, say)
    // in its own; the chain is what a user reads in its log.
    let line = 'ERROR ' + e.name + ': ' + e.message;
    for (let c = e.cause || e.originalError; c; c = c.cause || c.originalError) {
      line += ' <- ' + (c.type || c.name) + ': ' + c.message;
    }
    console.log(line);
    process.exit(0);
  });
