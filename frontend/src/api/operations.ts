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
    syncError
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
    confidence
    inputTokens
    outputTokens
    cost
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

export const ReviewJobUpdatedSubscription = graphql(`
  subscription ReviewJobUpdated($sessionId: ID) {
    reviewJobUpdated(sessionId: $sessionId) {
      ...ReviewJobFields
    }
  }
`);

/** A run as the heartbeat list and the review queue show it. */
graphql(`
  fragment RunFields on Run {
    id
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
          ...RunFields
          sessionId
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

graphql(`
  fragment TimelineRun on Run {
    ...RunFields
    providerRunId
    trigger
    inputTokens
    outputTokens
    cacheReadTokens
    cacheWriteTokens
    latestReview {
      id
      verdict
      reviewerKind
    }
  }
`);

/** One page of a session's runs in time order (optionally only some statuses): the timeline. */
export const SessionRunsQuery = graphql(`
  query SessionRuns(
    $id: ID!
    $first: Int
    $after: String
    $statuses: [RunStatus!]
    $startedAfter: DateTime
    $withTotal: Boolean!
  ) {
    session(id: $id) {
      id
      runs(first: $first, after: $after, statuses: $statuses, startedAfter: $startedAfter) {
        # Counted once, with the first page (a count over a long main session is not free).
        totalCount @include(if: $withTotal)
        pageInfo {
          hasNextPage
          endCursor
        }
        edges {
          node {
            ...TimelineRun
          }
        }
      }
    }
  }
`);

/** The selected run on the session detail: its header and its reviews. */
export const RunDetailQuery = graphql(`
  query RunDetail($id: ID!) {
    run(id: $id) {
      ...TimelineRun
      sessionId
      promptPreview
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
      syncErrorAt
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

/** One page of a transcript: a session's or a run's messages. */
graphql(`
  fragment TranscriptPage on MessageConnection {
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
`);

export const TranscriptQuery = graphql(`
  query Transcript($id: ID!, $first: Int, $after: String) {
    session(id: $id) {
      id
      messages(first: $first, after: $after) {
        ...TranscriptPage
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

/** What archiving or unarchiving a session changes. */
graphql(`
  fragment ArchiveState on Session {
    id
    status
    archivedAt
  }
`);

export const ArchiveSessionMutation = graphql(`
  mutation ArchiveSession($id: ID!) {
    archiveSession(id: $id) {
      ...ArchiveState
    }
  }
`);

export const UnarchiveSessionMutation = graphql(`
  mutation UnarchiveSession($id: ID!) {
    unarchiveSession(id: $id) {
      ...ArchiveState
    }
  }
`);

/** The totals the dashboard shows overall and per agent. */
graphql(`
  fragment MetricTotals on MetricSummary {
    runCount
    sessionCount
    failedRuns
    totalTokens
    cost
    durationP50Ms
    durationP95Ms
    reviewCount
    successRate
  }
`);

graphql(`
  fragment MetricPointFields on MetricPoint {
    bucketStart
    group
    runCount
    totalTokens
    cost
  }
`);

export const DashboardQuery = graphql(`
  query Dashboard($from: DateTime!, $to: DateTime!, $bucket: MetricBucket!, $filter: MetricFilterInput) {
    summary: metricSummary(from: $from, to: $to, filter: $filter) {
      ...MetricTotals
      heartbeatRuns
      heartbeatCost
    }
    agents {
      id
      displayName
      metrics(from: $from, to: $to) {
        ...MetricTotals
        sessionsByStatus {
          status
          count
        }
      }
    }
    triggers: metricSeries(groupBy: TRIGGER, bucket: $bucket, from: $from, to: $to, filter: $filter) {
      points {
        ...MetricPointFields
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
        ...MetricPointFields
      }
    }
  }
`);

// ---------------------------------------------------------------------------------------------
// Review loop (issue 6): AI review, the human review queue, and the "Improve" page.

graphql(`
  fragment ReviewBriefFields on ReviewBrief {
    id
    verdict
    rating
    confidence
    reviewerModel
    summary
    createdAt
  }
`);

graphql(`
  fragment QueueItemFields on QueueItem {
    sessionId
    runId
    agentId
    kind
    status
    title
    finishedAt
    reasons
    priority
    claimed
    claimedByMe
    claimExpiresAt
    cursor
    latestAi {
      ...ReviewBriefFields
    }
    latestHuman {
      ...ReviewBriefFields
    }
  }
`);

graphql(`
  fragment MetricComparisonFields on MetricComparison {
    metric
    label
    unit
    higherIsBetter
    method
    a
    b
    nA
    nB
    delta
    relativeDelta
    ciLow
    ciHigh
    pValue
    pAdjusted
    significant
    change
  }
`);

graphql(`
  fragment SuggestionFields on Suggestion {
    id
    rule
    target
    agentId
    title
    body
    targetMetrics
    evidence
    status
    seenCount
    createdAt
    updatedAt
    appliedAt
    note
    impact {
      beforeFrom
      beforeTo
      afterFrom
      afterTo
      complete
      metrics {
        ...MetricComparisonFields
      }
    }
  }
`);

graphql(`
  fragment ReviewJobFields on ReviewJob {
    id
    sessionId
    runId
    status
    attempts
    reason
    reviewId
    createdAt
    claimedAt
    finishedAt
    created
  }
`);

graphql(`
  fragment ReviewPolicyFields on ReviewPolicy {
    agentId
    enabled
    reviewTasks
    heartbeatSampleRate
    enabledAt
    updatedAt
  }
`);

graphql(`
  fragment ReviewerSettingsFields on ReviewerSettings {
    configured
    model
    defaultHeartbeatSampleRate
  }
`);

export const ReviewerSettingsQuery = graphql(`
  query ReviewerSettings {
    reviewerSettings {
      ...ReviewerSettingsFields
    }
  }
`);

export const ReviewQueueQuery = graphql(`
  query ReviewQueue($first: Int, $after: String, $agentId: String) {
    reviewQueue(first: $first, after: $after, agentId: $agentId) {
      nextCursor
      counts {
        reason
        count
      }
      items {
        ...QueueItemFields
      }
    }
  }
`);

/** What the review panel shows for a queue target: the session (or run) and its reviews. */
export const QueueTargetQuery = graphql(`
  query QueueTarget($sessionId: ID!, $runId: ID!, $isRun: Boolean!) {
    session(id: $sessionId) {
      id
      key
      kind
      status
      title
      model
      startedAt
      endedAt
      agent {
        id
        displayName
      }
      metrics {
        runCount
        failedRuns
        totalTokens
        cost
        wallTimeMs
        timeToCompletionMs
      }
      runs(first: 100) @skip(if: $isRun) {
        totalCount
        edges {
          node {
            ...QueueRunFields
          }
        }
      }
      reviews @skip(if: $isRun) {
        ...FullReviewFields
      }
    }
    run(id: $runId) @include(if: $isRun) {
      ...QueueRunFields
      reviews {
        ...FullReviewFields
      }
    }
  }
`);

graphql(`
  fragment QueueRunFields on Run {
    ...RunFields
    trigger
  }
`);

graphql(`
  fragment FullReviewFields on Review {
    ...ReviewFields
    evidence
    suggestions
  }
`);

export const RunTranscriptQuery = graphql(`
  query RunTranscript($id: ID!, $first: Int, $after: String) {
    run(id: $id) {
      id
      messages(first: $first, after: $after) {
        ...TranscriptPage
      }
    }
  }
`);

export const ClaimQueueItemMutation = graphql(`
  mutation ClaimQueueItem($sessionId: ID!, $runId: ID) {
    claimQueueItem(sessionId: $sessionId, runId: $runId) {
      sessionId
      runId
      claimedAt
      expiresAt
    }
  }
`);

export const ClaimNextQueueItemMutation = graphql(`
  mutation ClaimNextQueueItem($agentId: String) {
    claimNextQueueItem(agentId: $agentId) {
      ...QueueItemFields
    }
  }
`);

export const ReleaseQueueClaimMutation = graphql(`
  mutation ReleaseQueueClaim($sessionId: ID!, $runId: ID) {
    releaseQueueClaim(sessionId: $sessionId, runId: $runId)
  }
`);

export const SkipQueueItemMutation = graphql(`
  mutation SkipQueueItem($sessionId: ID!, $runId: ID) {
    skipQueueItem(sessionId: $sessionId, runId: $runId)
  }
`);

export const SubmitQueueReviewMutation = graphql(`
  mutation SubmitQueueReview($sessionId: ID!, $runId: ID, $verdict: Verdict!, $rating: Int!, $summary: String!) {
    submitQueueReview(sessionId: $sessionId, runId: $runId, verdict: $verdict, rating: $rating, summary: $summary) {
      ...ReviewFields
    }
  }
`);

export const RequestAiReviewMutation = graphql(`
  mutation RequestAiReview($sessionId: ID!, $runId: ID) {
    requestAiReview(sessionId: $sessionId, runId: $runId) {
      ...ReviewJobFields
    }
  }
`);

export const ReviewJobsQuery = graphql(`
  query ReviewJobs($sessionId: ID, $status: ReviewJobStatus, $first: Int) {
    reviewJobs(sessionId: $sessionId, status: $status, first: $first) {
      ...ReviewJobFields
    }
  }
`);

export const ComparePeriodsQuery = graphql(`
  query ComparePeriods($aFrom: DateTime!, $aTo: DateTime!, $bFrom: DateTime!, $bTo: DateTime!, $groupBy: MetricGroupBy) {
    comparePeriods(aFrom: $aFrom, aTo: $aTo, bFrom: $bFrom, bTo: $bTo, groupBy: $groupBy) {
      aFrom
      aTo
      bFrom
      bTo
      groupBy
      alpha
      tests
      groups {
        group
        metrics {
          ...MetricComparisonFields
        }
      }
    }
  }
`);

graphql(`
  fragment AgreementStatsFields on AgreementStats {
    pairs
    verdictMatches
    agreementRate
    meanAbsRatingDiff
    meanRatingDiff
  }
`);

export const JudgeAgreementQuery = graphql(`
  query JudgeAgreement($from: DateTime!, $to: DateTime!, $bucket: AgreementBucket!) {
    judgeAgreement(from: $from, to: $to, bucket: $bucket) {
      points {
        bucket
        reviewerModel
        stats {
          ...AgreementStatsFields
        }
      }
      models {
        reviewerModel
        kappa
        confusion
        stats {
          ...AgreementStatsFields
        }
      }
      calibration {
        reviewerModel
        uncalibrated {
          ...AgreementStatsFields
        }
        calibrated {
          ...AgreementStatsFields
        }
      }
    }
  }
`);

export const PatternsQuery = graphql(`
  query Patterns($from: DateTime!, $to: DateTime!) {
    patterns(from: $from, to: $to) {
      since
      until
      errorSignatures {
        signature
        occurrences
        sessions
        failedSessions
        agents
        tools
        firstSeen
        lastSeen
        example
        sessionIds
      }
      failureTerms {
        term
        docsFailed
        docsOther
        lift
        pAdjusted
      }
      idleHeartbeats {
        agentId
        heartbeats
        idle
        idleShare
        idleTokens
        idleCost
      }
      stalledTasks {
        sessionId
        agentId
        title
        lastActivityAt
        idleSeconds
      }
      missedCadence {
        sessionId
        agentId
        expectedIntervalSeconds
        lastHeartbeatAt
        overdueSeconds
        missedBeats
      }
    }
  }
`);

export const SuggestionsQuery = graphql(`
  query Suggestions($status: SuggestionStatus, $first: Int) {
    suggestions(status: $status, first: $first) {
      ...SuggestionFields
    }
  }
`);

export const GenerateSuggestionsMutation = graphql(`
  mutation GenerateSuggestions($from: DateTime!, $to: DateTime!) {
    generateSuggestions(from: $from, to: $to) {
      ...SuggestionFields
    }
  }
`);

export const MarkSuggestionAppliedMutation = graphql(`
  mutation MarkSuggestionApplied($id: ID!, $appliedAt: DateTime, $note: String) {
    markSuggestionApplied(id: $id, appliedAt: $appliedAt, note: $note) {
      ...SuggestionFields
    }
  }
`);

export const SetSuggestionStatusMutation = graphql(`
  mutation SetSuggestionStatus($id: ID!, $status: SuggestionStatus!, $note: String) {
    setSuggestionStatus(id: $id, status: $status, note: $note) {
      ...SuggestionFields
    }
  }
`);

graphql(`
  fragment ProposalFields on Proposal {
    id
    agentId
    fileName
    title
    rationale
    diff
    status
    error
    writable
    evidence
    targetMetrics
    sessionsAffected
    costAtStake
    model
    createdAt
    approvedAt
    appliedAt
    revertedAt
    impact {
      beforeFrom
      beforeTo
      afterFrom
      afterTo
      complete
      metrics {
        ...MetricComparisonFields
      }
    }
  }
`);

export const ProposalsQuery = graphql(`
  query Proposals($status: ProposalStatus, $first: Int) {
    proposals(status: $status, first: $first) {
      ...ProposalFields
      cursor
    }
  }
`);

export const SynthesizeProposalsMutation = graphql(`
  mutation SynthesizeProposals($from: DateTime!, $to: DateTime!) {
    synthesizeProposals(from: $from, to: $to) {
      ...ProposalFields
    }
  }
`);

export const EditProposalDiffMutation = graphql(`
  mutation EditProposalDiff($id: ID!, $diff: String!) {
    editProposalDiff(id: $id, diff: $diff) {
      ...ProposalFields
    }
  }
`);

export const ApproveProposalMutation = graphql(`
  mutation ApproveProposal($id: ID!) {
    approveProposal(id: $id) {
      ...ProposalFields
    }
  }
`);

export const ApplyProposalMutation = graphql(`
  mutation ApplyProposal($id: ID!) {
    applyProposal(id: $id) {
      ...ProposalFields
    }
  }
`);

export const RevertProposalMutation = graphql(`
  mutation RevertProposal($id: ID!) {
    revertProposal(id: $id) {
      ...ProposalFields
    }
  }
`);

export const DismissProposalMutation = graphql(`
  mutation DismissProposal($id: ID!) {
    dismissProposal(id: $id) {
      ...ProposalFields
    }
  }
`);

export const ReviewPoliciesQuery = graphql(`
  query ReviewPolicies {
    reviewerSettings {
      ...ReviewerSettingsFields
    }
    reviewPolicies {
      ...ReviewPolicyFields
    }
    agents {
      id
      displayName
    }
  }
`);

export const SetReviewPolicyMutation = graphql(`
  mutation SetReviewPolicy($agentId: String!, $enabled: Boolean!, $reviewTasks: Boolean!, $heartbeatSampleRate: Float) {
    setReviewPolicy(
      agentId: $agentId
      enabled: $enabled
      reviewTasks: $reviewTasks
      heartbeatSampleRate: $heartbeatSampleRate
    ) {
      ...ReviewPolicyFields
    }
  }
`);

// ---------------------------------------------------------------------------------------------
// Tool analytics (issue 18): the Tools page and the dashboard's tool-error panel.

graphql(`
  fragment ToolStatsFields on ToolStatsFields {
    calls
    completed
    errors
    pending
    errorRate
    durationP50Ms
    durationP95Ms
  }
`);

graphql(`
  fragment ToolErrorGroupFields on ToolErrorGroup {
    id
    tool
    fingerprint
    count
    sessions
    firstSeen
    lastSeen
    latestText
    trend
  }
`);

export const ToolsQuery = graphql(`
  query Tools($from: DateTime!, $to: DateTime!, $bucket: MetricBucket!, $filter: ToolFilterInput) {
    tools: toolSummary(from: $from, to: $to, filter: $filter) {
      tool
      sessions
      ...ToolStatsFields
    }
    byModel: toolSummary(from: $from, to: $to, filter: $filter, splitBy: MODEL, first: 200) {
      tool
      group
      ...ToolStatsFields
    }
    series: toolSeries(groupBy: TOOL, bucket: $bucket, from: $from, to: $to, filter: $filter, groups: 8) {
      groups
      points {
        bucketStart
        group
        ...ToolStatsFields
      }
    }
  }
`);

export const ToolErrorsQuery = graphql(`
  query ToolErrors($from: DateTime!, $to: DateTime!, $tool: String, $filter: ToolFilterInput, $first: Int!) {
    toolErrors(from: $from, to: $to, tool: $tool, filter: $filter, first: $first) {
      ...ToolErrorGroupFields
    }
  }
`);

export const ToolErrorCallsQuery = graphql(`
  query ToolErrorCalls($group: ID!, $from: DateTime!, $to: DateTime!, $filter: ToolFilterInput, $after: String) {
    toolErrorCalls(group: $group, from: $from, to: $to, filter: $filter, first: 20, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          tool
          toolCallId
          agentId
          model
          calledAt
          durationMs
          errorText
          sessionId
          runId
          callMessageId
          resultMessageId
          session {
            id
            title
            key
          }
        }
      }
    }
  }
`);
