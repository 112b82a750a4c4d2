import { rabbitmqConformance } from './helpers.js'

rabbitmqConformance('rabbitmq')
