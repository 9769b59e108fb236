// Operations of the Alerts page and the sessions CSV download (typed by codegen like the rest).
import { graphql } from '../gql';

graphql(`
  fragment AlertRuleFields on AlertRule {
    id
    name
    kind
    agentId
    threshold
    windowSeconds
    minSample
    resolveRatio
    enabled
  }
`);

graphql(`
  fragment AlertFields on Alert {
    id
    subject
    agentId
    state
    value
    message
    silenced
    firedAt
    resolvedAt
    rule {
      id
      name
      kind
    }
  }
`);

export const AlertsPageQuery = graphql(`
  query AlertsPage($state: AlertState, $first: Int!) {
    agents {
      id
      displayName
    }
    alertRules {
      ...AlertRuleFields
    }
    alertSilences {
      id
      ruleId
      agentId
      startsAt
      endsAt
      reason
      active
    }
    alerts(state: $state, first: $first) {
      edges {
        node {
          ...AlertFields
        }
      }
    }
  }
`);

export const CreateAlertRuleMutation = graphql(`
  mutation CreateAlertRule($input: AlertRuleInput!) {
    createAlertRule(input: $input) {
      ...AlertRuleFields
    }
  }
`);

export const UpdateAlertRuleMutation = graphql(`
  mutation UpdateAlertRule($id: ID!, $input: AlertRuleInput!) {
    updateAlertRule(id: $id, input: $input) {
      ...AlertRuleFields
    }
  }
`);

export const DeleteAlertRuleMutation = graphql(`
  mutation DeleteAlertRule($id: ID!) {
    deleteAlertRule(id: $id)
  }
`);

export const CreateAlertSilenceMutation = graphql(`
  mutation CreateAlertSilence($input: AlertSilenceInput!) {
    createAlertSilence(input: $input) {
      id
    }
  }
`);

export const DeleteAlertSilenceMutation = graphql(`
  mutation DeleteAlertSilence($id: ID!) {
    deleteAlertSilence(id: $id)
  }
`);

export const AlertFiredSubscription = graphql(`
  subscription AlertFired {
    alertFired {
      ...AlertFields
    }
  }
`);

export const SessionsCsvQuery = graphql(`
  query SessionsCsv($filter: SessionFilter, $limit: Int!) {
    sessionsCsv(filter: $filter, limit: $limit) {
      filename
      rowCount
      truncated
      content
    }
  }
`);
