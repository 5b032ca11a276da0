// One OKR on the dashboard; refetched on its own after an edit (useRefetchableFragment).
import { graphql } from 'react-relay';

export const item = graphql`
  fragment OKRCard_item on OKRItem @refetchable(queryName: "OKRCardRefetchQuery") {
    id
    kind
    level
    title
    progress
    status
    progressStatus
    timePeriod {
      id
      name
    }
    owners {
      id
      name
    }
    checkinOwner {
      id
      name
    }
    viewerCan {
      update
      delete
      checkIn
      comment
    }
    likeCount
  }
`;
