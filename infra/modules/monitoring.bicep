// Log Analytics + workspace-based Application Insights with local (key) authentication disabled: telemetry is
// accepted only from Entra identities holding Monitoring Metrics Publisher on the component (see rbac.bicep).

param location string
param tags object
param logAnalyticsName string
param appInsightsName string

@description('Days of log retention in the workspace.')
@minValue(30)
param retentionInDays int = 30

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
    features: {
      disableLocalAuth: true
    }
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    IngestionMode: 'LogAnalytics'
    DisableLocalAuth: true
  }
}

output appInsightsName string = appInsights.name
output appInsightsId string = appInsights.id
// The connection string names the ingestion endpoint; with local auth disabled it is not a credential (ingestion
// also needs an Entra token, APPLICATIONINSIGHTS_AUTHENTICATION_STRING).
output appInsightsConnectionString string = appInsights.properties.ConnectionString
output logAnalyticsWorkspaceId string = workspace.id
