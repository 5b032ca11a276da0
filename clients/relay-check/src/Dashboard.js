// The SPA's dashboard: a paginated, filterable list of OKRs (usePaginationFragment).
import { graphql } from 'react-relay';

export const query = graphql`
  query DashboardQuery($count: Int!, $cursor: Cursor, $where: OKRItemWhereInput) {
    viewer {
      user {
        id
        name
      }
    }
    organization {
      id
      name
    }
    ...Dashboard_okrs @arguments(count: $count, cursor: $cursor, where: $where)
  }
`;

export const okrs = graphql`
  fragment Dashboard_okrs on Query
  @refetchable(queryName: "DashboardPaginationQuery")
  @argumentDefinitions(
    count: { type: "Int", defaultValue: 20 }
    cursor: { type: "Cursor" }
    where: { type: "OKRItemWhereInput" }
  ) {
    okrs(first: $count, after: $cursor, where: $where, orderBy: [{ field: CREATED_AT, direction: DESC }])
    @connection(key: "Dashboard_okrs", filters: ["where"]) {
      __id
      totalCount
      edges {
        node {
          id
          ...OKRCard_item
        }
      }
    }
  }
`;
