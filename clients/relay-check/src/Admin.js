// Admin pages: a review and a policy version by id (both nullable), the policy audit log.
import { graphql } from 'react-relay';

export const review = graphql`
  query AdminReviewQuery($id: ID!) {
    review(id: $id) {
      id
      type
      status
      reviewee {
        id
        name
      }
    }
  }
`;

export const policy = graphql`
  query AdminPolicyQuery($id: ID!) {
    policyVersion(id: $id) {
      ...Admin_policyVersion
    }
    policyAudit(first: 20) {
      id
      action
      createdAt
    }
  }
`;

export const policyVersion = graphql`
  fragment Admin_policyVersion on PolicyVersion @refetchable(queryName: "AdminPolicyVersionRefetchQuery") {
    id
    number
    status
    comment
    modules {
      name
    }
  }
`;
