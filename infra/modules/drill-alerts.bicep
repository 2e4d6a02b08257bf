// Alert rules for recovery drills: log queries over the events the drill function writes to stdout, one JSON
// object per line (docs/drills.md, "Events and alerts"). Plans change without a redeploy, so there is no rule per
// plan: each rule covers every plan. The Functions host passes a custom handler's stdout lines to Application
// Insights as `traces` with category Host.Function.Console and the line as `message` (no custom dimensions), so
// each query parses the line itself. Azure Monitor runs the queries: the heartbeat rule fires even when the drill
// function is dead.

param location string
param tags object

@description('Resource id of the Application Insights component the drill function logs to.')
param appInsightsId string

@description('Action group to notify (resource id); empty to create the rules without notifications.')
param actionGroupId string = ''

@description('Minutes without a drill tick before the heartbeat alert fires (the timer ticks every few minutes).')
@minValue(10)
param heartbeatMinutes int = 30

var actions = empty(actionGroupId) ? {} : { actionGroups: [actionGroupId] }

// Every drill event line, parsed.
var events = 'traces | where customDimensions.Category == "Host.Function.Console" | where message startswith "{\\"event\\":\\"drill." | extend e = parse_json(message) | extend event = tostring(e.event), plan = tostring(e.plan), runId = tostring(e.runId)'

var rules = [
  {
    name: 'drill-heartbeat'
    description: 'The drill function has not ticked for ${heartbeatMinutes} minutes: no drill can start, and no other drill alert can fire.'
    severity: 1
    window: 'PT${heartbeatMinutes}M'
    frequency: 'PT5M'
    // `summarize count()` without a `by` returns one row even over no events: one row with 0 when nothing ticked.
    query: '${events} | where event == "drill.tick" | summarize ticks = count() | where ticks == 0'
    operator: 'GreaterThan'
    threshold: 0
  }
  {
    name: 'drill-missed-run'
    description: 'A plan\'s run was due and did not start within its start window (the drill function reports the missed run).'
    severity: 2
    window: 'PT1H'
    frequency: 'PT15M'
    query: '${events} | where event == "drill.signal" and tostring(e.kind) == "missedRun" | project timestamp, plan, runId, message'
    operator: 'GreaterThan'
    threshold: 0
  }
  {
    name: 'drill-run-failed'
    description: 'A drill run ended Failed or Partial: an item could not be restored or failed its checks.'
    severity: 2
    window: 'PT1H'
    frequency: 'PT15M'
    query: '${events} | where event == "drill.runEnded" and tostring(e.outcome) in ("Failed", "Partial") | project timestamp, plan, runId, outcome = tostring(e.outcome)'
    operator: 'GreaterThan'
    threshold: 0
  }
  {
    name: 'drill-cleanup-incomplete'
    description: 'A drill left resources behind (cleanup not confirmed): they cost money and may hold a clone of production data.'
    severity: 2
    window: 'PT1H'
    frequency: 'PT15M'
    query: '${events} | where event == "drill.signal" and tostring(e.kind) == "cleanupIncomplete" | project timestamp, plan, runId, resources = tostring(e.resources)'
    operator: 'GreaterThan'
    threshold: 0
  }
]

resource alerts 'Microsoft.Insights/scheduledQueryRules@2023-03-15-preview' = [
  for rule in rules: {
    name: rule.name
    location: location
    tags: tags
    properties: {
      displayName: rule.name
      description: rule.description
      severity: rule.severity
      enabled: true
      scopes: [appInsightsId]
      evaluationFrequency: rule.frequency
      windowSize: rule.window
      criteria: {
        allOf: [
          {
            query: rule.query
            timeAggregation: 'Count'
            operator: rule.operator
            threshold: rule.threshold
            failingPeriods: {
              numberOfEvaluationPeriods: 1
              minFailingPeriodsToAlert: 1
            }
          }
        ]
      }
      autoMitigate: true
      actions: actions
    }
  }
]
