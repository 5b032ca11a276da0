// Checking in: the new check-in is prepended to the history connection and
// the item (progress, status) is updated in the store from the payload.
import { graphql } from 'react-relay';

export const mutation = graphql`
  mutation CheckInMutation($input: CheckInInput!, $connections: [ID!]!) {
    checkIn(input: $input) {
      checkIn @prependNode(connections: $connections, edgeTypeName: "CheckInEdge") {
        id
        value
        progress
        status
        note
        createdAt
        author {
          id
          name
        }
      }
      item {
        id
        progress
        status
        ...OKRCard_item
      }
    }
  }
`;

export const deleteItem = graphql`
  mutation CheckInMutationDeleteMutation($id: ID!, $connections: [ID!]!) {
    deleteOKRItem(id: $id) {
      deletedId @deleteEdge(connections: $connections)
    }
  }
`;
