// Every GraphQL operation the dashboard sends. GraphQL Code Generator validates them against
// ../schema.graphql and types their results (src/gql/, generated, not committed).
import { graphql } from '../gql';

export const MeQuery = graphql(`
  query Me {
    me {
      keyId
      name
      role
      scopes
    }
  }
`);

export const AgentsQuery = graphql(`
  query Agents {
    agents {
      id
      displayName
    }
  }
`);

graphql(`
  fragment SessionRow on Session {
    id
    key
    kind
    status
    title
    model
    startedAt
    updatedAt
    endedAt
    runCount
    totalTokens
    totalCost
    durationMs
    childCount
    agent {
      id
      displayName
    }
    latestReview {
      id
      verdict
      rating
      reviewerKind
    }
  }
`);

graphql(`
  fragment ReviewFields on Review {
    id
    sessionId
    runId
    verdict
    rating
    summary
    reviewerKind
    reviewerModel
    createdBy
    editable
    createdAt
    updatedAt
  }
`);

graphql(`
  fragment SyncSourceFields on SyncSourceStatus {
    id
    name
    kind
    enabled
    lastAttemptAt
    lastSuccessAt
    lastError
    lastErrorAt
    consecutiveFailures
    circuitState
    nextAttemptAt
    stale
    staleSeconds
  }
`);

export const SessionsQuery = graphql(`
  query Sessions($filter: SessionFilter, $orderBy: SessionOrder, $first: Int, $after: String) {
    sessions(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        cursor
        node {
          ...SessionRow
        }
      }
    }
  }
`);

export const SessionCreatedSubscription = graphql(`
  subscription SessionCreated($filter: SessionFilter) {
    sessionCreated(filter: $filter) {
      ...SessionRow
    }
  }
`);

export const SessionUpdatedSubscription = graphql(`
  subscription SessionUpdated($filter: SessionFilter) {
    sessionUpdated(filter: $filter) {
      ...SessionRow
    }
  }
`);

export const SyncStatusQuery = graphql(`
  query SyncStatus {
    syncStatus {
      ...SyncSourceFields
    }
  }
`);

export const SyncStatusSubscription = graphql(`
  subscription SyncStatusFeed {
    syncStatus {
      ...SyncSourceFields
    }
  }
`);

export const HeartbeatsQuery = graphql(`
  query Heartbeats($filter: HeartbeatFilter, $first: Int, $after: String) {
    heartbeats(filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        cursor
        node {
          id
          sessionId
          status
          startedAt
          finishedAt
          durationMs
          model
          totalTokens
          cost
          error
          promptPreview
          outcomePreview
          toolCallCount
          toolErrorCount
          agent {
            id
            displayName
          }
          session {
            id
            key
            title
          }
          latestReview {
            ...ReviewFields
          }
        }
      }
    }
  }
`);

export const RunReviewsQuery = graphql(`
  query RunReviews($id: ID!) {
    run(id: $id) {
      id
      sessionId
      reviews {
        ...ReviewFields
      }
    }
  }
`);

export const SessionDetailQuery = graphql(`
  query SessionDetail($id: ID!) {
    session(id: $id) {
      ...SessionRow
      providerStatus
      providerSessionId
      channel
      source
      parentKey
      syncedAt
      transcriptSyncedAt
      archivedAt
      prunedAt
      lastRunAt
      metrics {
        runCount
        failedRuns
        inputTokens
        outputTokens
        cacheReadTokens
        cacheWriteTokens
        totalTokens
        cost
        wallTimeMs
        timeToCompletionMs
        usageComplete
      }
      parent {
        id
        key
        title
        kind
        status
      }
      children {
        id
        key
        title
        kind
        status
        startedAt
        totalCost
        latestReview {
          id
          verdict
        }
      }
      reviews {
        ...ReviewFields
      }
    }
  }
`);

export const TranscriptQuery = graphql(`
  query Transcript($id: ID!, $first: Int, $after: String) {
    session(id: $id) {
      id
      messages(first: $first, after: $after) {
        totalCount
        pageInfo {
          hasNextPage
          endCursor
        }
        edges {
          node {
            id
            seq
            role
            text
            createdAt
            model
            inputTokens
            outputTokens
            cost
            isError
            runId
            content
            toolCalls {
              id
              name
              arguments
            }
          }
        }
      }
    }
  }
`);

export const CreateReviewMutation = graphql(`
  mutation CreateReview($input: CreateReviewInput!) {
    createReview(input: $input) {
      ...ReviewFields
    }
  }
`);

export const UpdateReviewMutation = graphql(`
  mutation UpdateReview($id: ID!, $input: UpdateReviewInput!) {
    updateReview(id: $id, input: $input) {
      ...ReviewFields
    }
  }
`);

export const DeleteReviewMutation = graphql(`
  mutation DeleteReview($id: ID!) {
    deleteReview(id: $id)
  }
`);

export const ArchiveSessionMutation = graphql(`
  mutation ArchiveSession($id: ID!) {
    archiveSession(id: $id) {
      id
      status
      archivedAt
    }
  }
`);

export const UnarchiveSessionMutation = graphql(`
  mutation UnarchiveSession($id: ID!) {
    unarchiveSession(id: $id) {
      id
      status
      archivedAt
    }
  }
`);

export const DashboardQuery = graphql(`
  query Dashboard($from: DateTime!, $to: DateTime!, $bucket: MetricBucket!, $filter: MetricFilterInput) {
    summary: metricSummary(from: $from, to: $to, filter: $filter) {
      runCount
      sessionCount
      failedRuns
      totalTokens
      cost
      durationP50Ms
      durationP95Ms
      heartbeatRuns
      heartbeatCost
      reviewCount
      successRate
    }
    agents {
      id
      displayName
      metrics(from: $from, to: $to) {
        runCount
        sessionCount
        failedRuns
        totalTokens
        cost
        durationP50Ms
        durationP95Ms
        reviewCount
        successRate
        sessionsByStatus {
          status
          count
        }
      }
    }
    triggers: metricSeries(groupBy: TRIGGER, bucket: $bucket, from: $from, to: $to, filter: $filter) {
      points {
        bucketStart
        group
        runCount
        totalTokens
        cost
      }
    }
    verdicts: verdictSeries(bucket: $bucket, from: $from, to: $to, filter: $filter) {
      bucketStart
      verdict
      count
    }
    durations: durationHistogram(from: $from, to: $to, filter: $filter) {
      lowerMs
      upperMs
      count
    }
  }
`);

export const UsageSeriesQuery = graphql(`
  query UsageSeries(
    $from: DateTime!
    $to: DateTime!
    $bucket: MetricBucket!
    $groupBy: MetricGroupBy!
    $filter: MetricFilterInput
  ) {
    metricSeries(groupBy: $groupBy, bucket: $bucket, from: $from, to: $to, filter: $filter) {
      groups
      points {
        bucketStart
        group
        runCount
        totalTokens
        cost
      }
    }
  }
`);
