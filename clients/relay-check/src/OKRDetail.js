// An OKR's page: its key results and its check-in history, paginated.
import { graphql } from 'react-relay';

export const query = graphql`
  query OKRDetailQuery($id: ID!) {
    node(id: $id) {
      ... on OKRItem @alias(as: "item") {
        ...OKRCard_item
        ...OKRDetail_checkins
        children(first: 50) {
          edges {
            node {
              id
              ...OKRCard_item
            }
          }
        }
      }
    }
  }
`;

export const checkins = graphql`
  fragment OKRDetail_checkins on OKRItem
  @refetchable(queryName: "OKRDetailCheckinsPaginationQuery")
  @argumentDefinitions(count: { type: "Int", defaultValue: 10 }, cursor: { type: "Cursor" }) {
    checkins(first: $count, after: $cursor) @connection(key: "OKRDetail_checkins") {
      __id
      edges {
        node {
          id
          value
          progress
          status
          confidence
          note
          createdAt
          author {
            id
            name
          }
        }
      }
    }
  }
`;
