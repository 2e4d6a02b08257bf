// Service Bus: the requests queue the intake reads, the results topic both apps write, and one subscription on
// the topic so results can be read (restorectl, the portal's Service Bus Explorer, or a consumer of your own).
// Local (SAS) authentication is disabled: every client uses an Entra identity with a data-plane role.

param location string
param tags object
param namespaceName string
param requestsQueueName string
param resultsTopicName string
param resultsSubscriptionName string

@description('Deliveries before a request dead-letters. The host redelivers a failed message at once, so this bounds how many attempts a transient Azure outage burns before an operator must look at the dead-letter queue.')
@minValue(1)
param maxDeliveryCount int = 10

@description('Window in which a resubmitted request with the same MessageId (restorectl submit uses the requestId) is dropped by the broker. The state store deduplicates on requestId after that.')
param duplicateDetectionWindow string = 'P1D'

@description('How long an unprocessed request or result stays on the broker before it expires (expired messages dead-letter).')
param messageTimeToLive string = 'P14D'

resource namespace 'Microsoft.ServiceBus/namespaces@2022-10-01-preview' = {
  name: namespaceName
  location: location
  tags: tags
  // Standard: topics need it (Basic has none); Premium adds private endpoints and 100 MB messages, not needed here.
  sku: {
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

resource requestsQueue 'Microsoft.ServiceBus/namespaces/queues@2022-10-01-preview' = {
  parent: namespace
  name: requestsQueueName
  properties: {
    // A short lock: the host renews it while the invocation runs (maxAutoLockRenewalDuration in handlers/intake/host.app.json), and
    // a crashed instance's message comes back after one minute instead of five.
    lockDuration: 'PT1M'
    maxDeliveryCount: maxDeliveryCount
    deadLetteringOnMessageExpiration: true
    defaultMessageTimeToLive: messageTimeToLive
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: duplicateDetectionWindow
    requiresSession: false
    enablePartitioning: false
    maxSizeInMegabytes: 1024
  }
}

resource resultsTopic 'Microsoft.ServiceBus/namespaces/topics@2022-10-01-preview' = {
  parent: namespace
  name: resultsTopicName
  properties: {
    defaultMessageTimeToLive: messageTimeToLive
    // The tracker sends its results itself with a MessageId derived from request id and status: a batch sent
    // again after a lost answer is dropped here. (The intake's results go through the output binding, which
    // cannot set a MessageId; consumers still dedupe on requestId + status.)
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: duplicateDetectionWindow
    enablePartitioning: false
    maxSizeInMegabytes: 1024
  }
}

resource resultsSubscription 'Microsoft.ServiceBus/namespaces/topics/subscriptions@2022-10-01-preview' = {
  parent: resultsTopic
  name: resultsSubscriptionName
  properties: {
    lockDuration: 'PT1M'
    maxDeliveryCount: 10
    deadLetteringOnMessageExpiration: true
    defaultMessageTimeToLive: messageTimeToLive
    requiresSession: false
  }
}

output namespaceName string = namespace.name
// serviceBusEndpoint is https://<ns>.servicebus.<cloud suffix>:443/; the FQDN is its host, right in every cloud.
output fullyQualifiedNamespace string = split(split(replace(namespace.properties.serviceBusEndpoint, 'https://', ''), '/')[0], ':')[0]
output serviceBusEndpoint string = namespace.properties.serviceBusEndpoint
output requestsQueueName string = requestsQueue.name
output resultsTopicName string = resultsTopic.name
output resultsSubscriptionName string = resultsSubscription.name
