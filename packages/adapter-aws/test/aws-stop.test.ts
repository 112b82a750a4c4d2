import { conformanceCase } from '@omnibus/conformance'
import { awsTransport } from '../src/index.js'
import { injectRaw, testOptions } from './helpers.js'

// Issue 13: with long polling and parallel receives (maxInFlight 12: three loops), a member
// that stops must not release messages while its other receives are still open.
conformanceCase(
  {
    name: 'aws',
    createTransport: () => awsTransport(testOptions({ waitTimeSeconds: 2 })),
    injectRaw: (channel, body) => injectRaw(channel, body),
    patience: 3,
  },
  21,
  'long polling',
)
