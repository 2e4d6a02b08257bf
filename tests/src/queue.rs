//! A Service Bus queue in front of one worker function: PeekLock delivery with DeliveryCount,
//! completion on success, immediate redelivery on failure, dead-lettering after
//! MaxDeliveryCount, `maxConcurrentCalls`, and the output messages a consumer would receive.

use std::collections::{BTreeMap, VecDeque};

use serde_json::Value;
use time::OffsetDateTime;
use tokio::task::JoinSet;

use crate::response::{blob_bytes, service_bus_messages};
use crate::triggers::{SbMessage, SbTrigger};
use crate::worker::HostClient;

/// The dead-letter reason the broker uses.
pub const MAX_DELIVERY_COUNT_EXCEEDED: &str = "MaxDeliveryCountExceeded";

/// Kinds of output binding the simulator converts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    /// A `serviceBus` output.
    ServiceBus,
    /// A `blob` output.
    Blob,
}

/// An output binding of the function (function.json).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputBinding {
    /// The binding `name`.
    pub name: String,
    /// Its type.
    pub kind: OutputKind,
    /// `"dataType": "binary"`.
    pub binary: bool,
}

impl OutputBinding {
    /// A Service Bus output binding.
    pub fn service_bus(name: impl Into<String>) -> Self {
        Self { name: name.into(), kind: OutputKind::ServiceBus, binary: false }
    }

    /// A blob output binding.
    pub fn blob(name: impl Into<String>) -> Self {
        Self { name: name.into(), kind: OutputKind::Blob, binary: false }
    }
}

/// Queue and trigger configuration.
#[derive(Debug, Clone)]
pub struct QueueConfig {
    /// The function the trigger invokes.
    pub function: String,
    /// The trigger binding.
    pub trigger: SbTrigger,
    /// The queue's MaxDeliveryCount (default 10).
    pub max_delivery_count: u32,
    /// host.json `maxConcurrentCalls` (default 16).
    pub max_concurrent_calls: usize,
    /// The function's output bindings.
    pub outputs: Vec<OutputBinding>,
}

impl QueueConfig {
    /// Defaults: MaxDeliveryCount 10, maxConcurrentCalls 16, no outputs.
    pub fn new(function: impl Into<String>, trigger: SbTrigger) -> Self {
        Self {
            function: function.into(),
            trigger,
            max_delivery_count: 10,
            max_concurrent_calls: 16,
            outputs: Vec::new(),
        }
    }

    /// Set MaxDeliveryCount.
    pub fn max_delivery_count(mut self, n: u32) -> Self {
        self.max_delivery_count = n.max(1);
        self
    }

    /// Set maxConcurrentCalls.
    pub fn max_concurrent_calls(mut self, n: usize) -> Self {
        self.max_concurrent_calls = n.max(1);
        self
    }

    /// Add an output binding.
    pub fn output(mut self, binding: OutputBinding) -> Self {
        self.outputs.push(binding);
        self
    }
}

/// One delivery attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// The message.
    pub message_id: String,
    /// Its DeliveryCount for this attempt.
    pub delivery_count: u32,
    /// The invocation id sent.
    pub invocation_id: String,
    /// `Ok(logs)` when completed, `Err(reason)` when abandoned.
    pub outcome: Result<Vec<String>, String>,
}

/// A dead-lettered message.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    /// The message (with its final DeliveryCount).
    pub message: SbMessage,
    /// `DeadLetterReason`.
    pub reason: String,
    /// `DeadLetterErrorDescription`: the last failure.
    pub description: String,
}

/// A finished delivery task: the message, the invocation id, the outcome (logs or reason)
/// and the raw values of the configured output bindings.
type Attempt = (SbMessage, String, Result<Vec<String>, String>, Vec<(OutputBinding, Value)>);

/// The simulated queue.
#[derive(Debug)]
pub struct ServiceBusQueue {
    config: QueueConfig,
    pending: VecDeque<SbMessage>,
    next_sequence: i64,
    /// Completed messages, in completion order.
    pub completed: Vec<SbMessage>,
    /// Dead-lettered messages.
    pub dead_letters: Vec<DeadLetter>,
    /// Every delivery attempt, in completion order.
    pub deliveries: Vec<Delivery>,
    /// Service Bus output binding name → message bodies a consumer receives.
    pub sent: BTreeMap<String, Vec<Vec<u8>>>,
    /// Blob output binding name → blobs written.
    pub blobs: BTreeMap<String, Vec<Vec<u8>>>,
}

impl ServiceBusQueue {
    /// An empty queue.
    pub fn new(config: QueueConfig) -> Self {
        Self {
            config,
            pending: VecDeque::new(),
            next_sequence: 1,
            completed: Vec::new(),
            dead_letters: Vec::new(),
            deliveries: Vec::new(),
            sent: BTreeMap::new(),
            blobs: BTreeMap::new(),
        }
    }

    /// Enqueue a message: assigns SequenceNumber and EnqueuedTime (second precision), resets
    /// DeliveryCount.
    pub fn send(&mut self, mut message: SbMessage) {
        message.sequence_number = self.next_sequence;
        self.next_sequence += 1;
        message.enqueued_time = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap_or(message.enqueued_time);
        message.delivery_count = 0;
        self.pending.push_back(message);
    }

    /// Messages waiting for delivery.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Deliver until the queue is empty: up to `max_concurrent_calls` at once; success
    /// completes (and collects outputs), failure redelivers immediately with DeliveryCount+1,
    /// and a failure at MaxDeliveryCount dead-letters.
    pub async fn run(&mut self, client: &HostClient) {
        let mut in_flight: JoinSet<Attempt> = JoinSet::new();
        loop {
            while in_flight.len() < self.config.max_concurrent_calls {
                let Some(mut message) = self.pending.pop_front() else { break };
                message.delivery_count += 1;
                message.lock_token = uuid::Uuid::new_v4().to_string();
                let invocation = message.invocation(self.config.function.clone(), &self.config.trigger);
                let client = client.clone();
                let outputs = self.config.outputs.clone();
                in_flight.spawn(async move {
                    let id = invocation.invocation_id.clone();
                    match client.invoke(&invocation).await {
                        Err(e) => (message, id, Err(format!("transport: {e}")), Vec::new()),
                        Ok(resp) => match resp.outcome {
                            Err(f) => (message, id, Err(format!("{f:?}: {}", resp.raw.text())), Vec::new()),
                            Ok(success) => {
                                let values = outputs
                                    .into_iter()
                                    .filter_map(|b| {
                                        let v = success
                                            .outputs
                                            .iter()
                                            .find(|(k, _)| k.eq_ignore_ascii_case(&b.name))?
                                            .1
                                            .clone();
                                        Some((b, v))
                                    })
                                    .collect();
                                (message, id, Ok(success.logs), values)
                            }
                        },
                    }
                });
            }
            let Some(joined) = in_flight.join_next().await else { break };
            let (message, invocation_id, mut outcome, values) = match joined {
                Ok(result) => result,
                Err(e) => {
                    // A simulator task panicked: nothing sensible to redeliver.
                    self.deliveries.push(Delivery {
                        message_id: String::new(),
                        delivery_count: 0,
                        invocation_id: String::new(),
                        outcome: Err(format!("simulator task failed: {e}")),
                    });
                    continue;
                }
            };
            // Convert outputs; a conversion failure fails the invocation (nothing is written).
            let mut converted = Vec::new();
            if outcome.is_ok() {
                for (binding, value) in &values {
                    let result = match binding.kind {
                        OutputKind::ServiceBus => service_bus_messages(&binding.name, value, binding.binary),
                        OutputKind::Blob => {
                            blob_bytes(&binding.name, value, binding.binary).map(|b| b.into_iter().collect())
                        }
                    };
                    match result {
                        Ok(items) => converted.push((binding.clone(), items)),
                        Err(e) => {
                            outcome = Err(e.to_string());
                            break;
                        }
                    }
                }
            }
            self.deliveries.push(Delivery {
                message_id: message.message_id.clone(),
                delivery_count: message.delivery_count,
                invocation_id,
                outcome: outcome.clone(),
            });
            match outcome {
                Ok(_) => {
                    for (binding, items) in converted {
                        let target = match binding.kind {
                            OutputKind::ServiceBus => &mut self.sent,
                            OutputKind::Blob => &mut self.blobs,
                        };
                        target.entry(binding.name).or_default().extend(items);
                    }
                    self.completed.push(message);
                }
                Err(reason) if message.delivery_count >= self.config.max_delivery_count => {
                    self.dead_letters.push(DeadLetter {
                        message,
                        reason: MAX_DELIVERY_COUNT_EXCEEDED.to_string(),
                        description: reason,
                    });
                }
                Err(_) => self.pending.push_front(message),
            }
        }
    }
}
